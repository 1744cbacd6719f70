#!/bin/sh
# The picket image's entrypoint: secrets from files, then `picket` with the arguments given.
#
# For every variable NAME_FILE in the environment whose NAME is picket's (PICKET_*,
# DATABASE_URL, DATABASE_READ_URL: PICKET_TOKEN_KEYS_FILE, DATABASE_URL_FILE, ...), NAME is set
# to that file's content (a trailing newline dropped) and NAME_FILE removed, so keys and passwords come from mounted secrets
# (/run/secrets/...) rather than from the container's configuration. Setting both NAME and
# NAME_FILE is refused: which one wins would be a guess.
#
# Settings whose value IS a path picket opens itself (src/: env = "PICKET_…_FILE") are left
# alone: PICKET_NATS_CREDS_FILE=/run/secrets/nats-gateway-seed stays a path. scripts/
# validate-deploy checks that this list is exactly the code's.
set -eu

path_settings="PICKET_NATS_CA_FILE PICKET_NATS_CERT_FILE PICKET_NATS_CREDS_FILE PICKET_NATS_KEY_FILE PICKET_REDIS_CA_FILE PICKET_REDIS_CERT_FILE PICKET_REDIS_KEY_FILE"

# Other tools' *_FILE variables (SSL_CERT_FILE, ...) are left alone.
names=$(env | sed -n -e 's/^\(PICKET_[A-Z0-9_]*\)_FILE=.*$/\1/p' \
  -e 's/^\(DATABASE_URL\|DATABASE_READ_URL\)_FILE=.*$/\1/p')
for name in $names; do
  case " $path_settings " in
    *" ${name}_FILE "*) continue ;;
  esac
  file=$(printenv "${name}_FILE")
  if printenv "$name" >/dev/null 2>&1; then
    echo "picket-entrypoint: both $name and ${name}_FILE are set; set one" >&2
    exit 64
  fi
  if [ ! -r "$file" ]; then
    echo "picket-entrypoint: ${name}_FILE names $file, which cannot be read" >&2
    exit 66
  fi
  value=$(cat "$file")
  export "$name=$value"
  unset "${name}_FILE"
done

exec picket "$@"
