//! The waiting room in Redis, shared by every gateway. Each step is one Lua script, so it is
//! atomic and uses Redis' own clock (`TIME`): gateways' clocks never decide a place or an
//! admission. All keys of a sale share the hash tag `{s<sale>}` so a Redis Cluster keeps them on
//! one shard.
//!
//! Keys of sale 77: `pk:{s77}:cfg` (hash: settings, the draw's `seed` and `entry_key`,
//! counters), `:pre` (set: the
//! pre-queue), `:places` (hash identity → place), `:who` (hash place → identity), `:seen` (hash
//! identity → last seen ms), `:admitted` (hash identity → `jti:expires_ms`), `:active` (sorted
//! set identity by expiry), `:ctl` (hash: the controller `holder` holding the lease `until_ms`;
//! the lease is a time in the hash, not a key TTL, so every rule runs on the one clock the
//! scripts read), `:restoring` (the lock of a restore under way, with a TTL).
//!
//! The scripts are the Lua form of [`crate::core`]'s rules and must agree with it exactly:
//! `tests/tests/room_differential.rs` (picket-tests) runs one seeded trace through both, with
//! the scripts on a test clock ([`RedisStore::connect_on_test_clock`]).
//!
//! Redis must persist (AOF) for places and admissions to survive its restart; a sale it lost
//! is put back from the API's record ([`QueueStore::restore`]); see docs/operations.md.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Script, Value};

use crate::draw;
use crate::{
    ADVANCE_SCAN_MAX, Advance, DrawSecrets, IDENTITIES_PER_CALL_MAX, QueueStore, SaleId,
    SaleRecord, SaleSettings, SaleStatus, SaleView, Standing, StoreError, StoreFuture, status_of,
};

/// Identities written per script call while drawing the pre-queue.
pub const DRAW_CHUNK_MAX: usize = 1_000;
/// How long a restore's lock outlives its last step: a restorer that died mid-way holds the
/// sale back from the next restore for at most this long.
pub const RESTORE_LOCK_MS: u64 = 10_000;
/// Longest a store call waits for Redis before the gateway treats it as unreachable.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_millis(1_500);
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);

/// Redis' clock, in milliseconds.
const REDIS_CLOCK: &str = r#"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"#;

/// The key a store on the test clock reads the time from (milliseconds, set by the test).
pub const TEST_CLOCK_KEY: &str = "pk:test:now_ms";

/// The test clock: the time is whatever the test last wrote to [`TEST_CLOCK_KEY`].
const TEST_CLOCK: &str = r#"
local function now_ms() return tonumber(redis.call('GET', 'pk:test:now_ms')) end
"#;

/// Shared by every script: number formatting that never uses an exponent (Lua's `tostring`
/// would print large numbers as `1.7e+15`), and the lease.
const PRELUDE: &str = r#"
local function int(x) return string.format('%.0f', x) end
local function num(x) return tonumber(x) or 0 end
local function take_lease(ctl, holder, lease_ms, now)
  local l = redis.call('HMGET', ctl, 'holder', 'until_ms')
  if l[1] and l[1] ~= holder and num(l[2]) > now then return false end
  redis.call('HSET', ctl, 'holder', holder, 'until_ms', int(now + tonumber(lease_ms)))
  return true
end
"#;

const VIEW: &str = r#"
local function view(cfg, pre, active, now)
  local f = redis.call('HMGET', cfg, 'open_at_ms', 'admit_per_sec', 'active_max',
    'admission_ttl_ms', 'seat_limit', 'grace_ms', 'paused', 'seed', 'drawn', 'sold_out',
    'watermark', 'late')
  local out = {}
  for i = 1, 12 do out[i] = f[i] or '0' end
  out[13] = int(redis.call('SCARD', pre))
  out[14] = int(redis.call('ZCOUNT', active, '(' .. int(now), '+inf'))
  out[15] = int(now)
  return out
end
"#;

const CONFIGURE: &str = r#"
local cfg, pre, active, restoring = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_ms()
if redis.call('EXISTS', cfg) == 0 then
  -- A restore is writing this sale's keys: creating it now would mix a new sale with them.
  if redis.call('EXISTS', restoring) == 1 then return {'restoring'} end
  redis.call('HSET', cfg, 'seed', ARGV[8], 'drawn', '0', 'sold_out', '0', 'watermark', '0',
    'late', '0', 'credit_milli', '0', 'credit_at_ms', int(now), 'next_jti', '0')
end
-- A sale created before draw entries existed gets its entry key when it is next configured.
redis.call('HSETNX', cfg, 'entry_key', ARGV[9])
if redis.call('HGET', cfg, 'drawn') ~= '1' then
  redis.call('HSET', cfg, 'open_at_ms', ARGV[1])
end
redis.call('HSET', cfg, 'admit_per_sec', ARGV[2], 'active_max', ARGV[3],
  'admission_ttl_ms', ARGV[4], 'seat_limit', ARGV[5], 'grace_ms', ARGV[6], 'paused', ARGV[7])
return view(cfg, pre, active, now)
"#;

const READ_VIEW: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
return view(KEYS[1], KEYS[2], KEYS[3], now_ms())
"#;

/// Standing of one identity: {kind, a, b}.
const STANDING: &str = r#"
local function standing(cfg, pre, places, admitted, id, now)
  local a = redis.call('HGET', admitted, id)
  if a then
    local sep = string.find(a, ':', 1, true)
    local exp = tonumber(string.sub(a, sep + 1))
    if exp > now then return {'admitted', string.sub(a, 1, sep - 1), int(exp)} end
  end
  local p = redis.call('HGET', places, id)
  if p then return {'waiting', p, '0'} end
  if redis.call('HGET', cfg, 'drawn') ~= '1' and redis.call('SISMEMBER', pre, id) == 1 then
    return {'pre', '0', '0'}
  end
  return {'absent', '0', '0'}
end
"#;

const JOIN: &str = r#"
local cfg, pre, places, who, seen, admitted = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id = ARGV[1]
if redis.call('EXISTS', cfg) == 0 then return {'unknown'} end
local now = now_ms()
redis.call('HSET', seen, id, int(now))
local s = standing(cfg, pre, places, admitted, id, now)
if s[1] ~= 'absent' then return s end
if now < num(redis.call('HGET', cfg, 'open_at_ms')) then
  redis.call('SADD', pre, id)
  return {'pre', '0', '0'}
end
redis.call('HDEL', admitted, id)
local late = redis.call('HINCRBY', cfg, 'late', 1)
local place = redis.call('SCARD', pre) + late
redis.call('HSET', places, id, int(place))
redis.call('HSET', who, int(place), id)
return {'waiting', int(place), '0'}
"#;

const STANDINGS: &str = r#"
local cfg, pre, places, admitted = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', cfg) == 0 then return {'unknown'} end
local now = now_ms()
local out = {}
for i = 1, #ARGV do
  local s = standing(cfg, pre, places, admitted, ARGV[i], now)
  out[#out + 1] = s[1]; out[#out + 1] = s[2]; out[#out + 1] = s[3]
end
return out
"#;

const HEARTBEAT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
local now = int(now_ms())
for i = 1, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], now) end
return {'ok'}
"#;

/// Returns {leader, draw_due, admitted, skipped, watermark}. The budget is in thousandths of an
/// admission, as in the core (integers, exact in Lua's doubles).
const ADVANCE: &str = r#"
local cfg, ctl, pre, who, seen, places, admitted, active =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local holder, lease_ms, scan_max = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', cfg) == 0 then return {'unknown'} end
local now = now_ms()
local wm = num(redis.call('HGET', cfg, 'watermark'))
if not take_lease(ctl, holder, lease_ms, now) then return {'0', '0', '0', '0', int(wm)} end
local c = redis.call('HMGET', cfg, 'drawn', 'open_at_ms', 'admit_per_sec', 'active_max',
  'admission_ttl_ms', 'grace_ms', 'paused', 'sold_out', 'credit_milli', 'credit_at_ms', 'late')
if c[1] ~= '1' then
  local due = '0'
  if now >= num(c[2]) then due = '1' end
  return {'1', due, '0', '0', int(wm)}
end
local rate = num(c[3])
local credit = num(c[9]) + rate * math.max(0, now - num(c[10]))
credit = math.min(credit, math.max(rate, 1) * 1000)
redis.call('ZREMRANGEBYSCORE', active, '-inf', int(now))
if c[7] == '1' or c[8] == '1' then
  redis.call('HSET', cfg, 'credit_milli', int(credit), 'credit_at_ms', int(now))
  return {'1', '0', '0', '0', int(wm)}
end
local room = math.max(0, num(c[4]) - redis.call('ZCARD', active))
local budget = math.min(math.floor(credit / 1000), room)
local tail = redis.call('SCARD', pre) + num(c[11])
local ttl, grace = num(c[5]), num(c[6])
local n_admitted, n_skipped, scanned = 0, 0, 0
while n_admitted < budget and wm < tail and scanned < scan_max do
  scanned = scanned + 1
  wm = wm + 1
  local id = redis.call('HGET', who, int(wm))
  if id then
    local last = tonumber(redis.call('HGET', seen, id))
    redis.call('HDEL', places, id)
    if last and now - last <= grace then
      local jti = redis.call('HINCRBY', cfg, 'next_jti', 1)
      local exp = now + ttl
      redis.call('HSET', admitted, id, int(jti) .. ':' .. int(exp))
      redis.call('ZADD', active, int(exp), id)
      n_admitted = n_admitted + 1
    else
      n_skipped = n_skipped + 1
    end
  end
end
credit = credit - n_admitted * 1000
redis.call('HSET', cfg, 'credit_milli', int(credit), 'credit_at_ms', int(now),
  'watermark', int(wm))
return {'1', '0', int(n_admitted), int(n_skipped), int(wm)}
"#;

/// Writes one chunk of drawn places and renews the drawing controller's lease (taking it back if
/// it lapsed and nobody else took it), so a draw of any length finishes; ARGV: holder,
/// lease_ms, first place, identities… The order is a function of the seed and the pre-queue,
/// which is closed at the open, so two controllers drawing in turn write the same places.
const DRAW_CHUNK: &str = r#"
local cfg, ctl, places, who = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('HGET', cfg, 'drawn') == '1' then return {'skip'} end
if not take_lease(ctl, ARGV[1], ARGV[2], now_ms()) then return {'skip'} end
local place = tonumber(ARGV[3])
for i = 4, #ARGV do
  redis.call('HSET', places, ARGV[i], int(place))
  redis.call('HSET', who, int(place), ARGV[i])
  place = place + 1
end
return {'ok'}
"#;

/// Marks the draw done (once), under the drawing controller's lease; ARGV: holder, lease_ms.
const DRAW_DONE: &str = r#"
local cfg, ctl = KEYS[1], KEYS[2]
if redis.call('HGET', cfg, 'drawn') == '1' then return {'ok'} end
local now = now_ms()
if not take_lease(ctl, ARGV[1], ARGV[2], now) then return {'skip'} end
redis.call('HSET', cfg, 'drawn', '1', 'credit_at_ms', int(now))
return {'ok'}
"#;

/// Begins restoring a sale the store lost: only while its `cfg` is absent, and under a restore
/// lock (`:restoring`, a key with a TTL on Redis' own clock) so two API processes restoring the
/// same sale at once do not interleave. Clears what is left of the sale's other keys (an
/// eviction may have taken `cfg` alone). ARGV: restorer, lock_ms. Returns {'ok'} or {'exists'}
/// (or {'busy'} while another restorer holds the lock).
const RESTORE_BEGIN: &str = r#"
local cfg, lock = KEYS[1], KEYS[2]
if redis.call('EXISTS', cfg) == 1 then return {'exists'} end
local holder = redis.call('GET', lock)
if holder and holder ~= ARGV[1] then return {'busy'} end
redis.call('SET', lock, ARGV[1], 'PX', ARGV[2])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
return {'ok'}
"#;

/// Writes one chunk of a restored draw: the pre-queue, `who`, and for places past the watermark
/// `places` and `seen` (now), as [`crate::core::SaleCore::restored`] does. ARGV: restorer,
/// lock_ms, watermark, first place, identities… Only while `cfg` is absent and the lock is the
/// restorer's (renewed).
const RESTORE_CHUNK: &str = r#"
local cfg, lock, pre, who, places, seen = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if redis.call('EXISTS', cfg) == 1 then return {'exists'} end
if redis.call('GET', lock) ~= ARGV[1] then return {'busy'} end
redis.call('PEXPIRE', lock, ARGV[2])
local now = int(now_ms())
local wm = tonumber(ARGV[3])
local place = tonumber(ARGV[4])
for i = 5, #ARGV do
  redis.call('SADD', pre, ARGV[i])
  redis.call('HSET', who, int(place), ARGV[i])
  if place > wm then
    redis.call('HSET', places, ARGV[i], int(place))
    redis.call('HSET', seen, ARGV[i], now)
  end
  place = place + 1
end
return {'ok'}
"#;

/// Ends a restore: creates `cfg` (settings, secrets, drawn flag, watermark) and drops the lock.
/// ARGV: restorer, open_at_ms, admit_per_sec, active_max, admission_ttl_ms, seat_limit,
/// grace_ms, paused, seed, entry_key, drawn, watermark.
const RESTORE_DONE: &str = r#"
local cfg, lock = KEYS[1], KEYS[2]
if redis.call('EXISTS', cfg) == 1 then return {'exists'} end
if redis.call('GET', lock) ~= ARGV[1] then return {'busy'} end
local now = now_ms()
redis.call('HSET', cfg, 'open_at_ms', ARGV[2], 'admit_per_sec', ARGV[3], 'active_max', ARGV[4],
  'admission_ttl_ms', ARGV[5], 'seat_limit', ARGV[6], 'grace_ms', ARGV[7], 'paused', ARGV[8],
  'seed', ARGV[9], 'entry_key', ARGV[10], 'drawn', ARGV[11], 'sold_out', '0',
  'watermark', ARGV[12], 'late', '0', 'credit_milli', '0', 'credit_at_ms', int(now),
  'next_jti', '0')
redis.call('DEL', lock)
return {'ok'}
"#;

/// Ends the admissions of every identity in ARGV (one, or a push round's gathered finishes).
const FINISH: &str = r#"
local admitted, active = KEYS[1], KEYS[2]
local now = now_ms()
for _, id in ipairs(ARGV) do
  redis.call('ZREM', active, id)
  local a = redis.call('HGET', admitted, id)
  if a then
    local sep = string.find(a, ':', 1, true)
    local exp = tonumber(string.sub(a, sep + 1))
    if exp > now then redis.call('HSET', admitted, id, string.sub(a, 1, sep) .. int(now)) end
  end
end
return {'ok'}
"#;

const SOLD_OUT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
redis.call('HSET', KEYS[1], 'sold_out', ARGV[1])
return {'ok'}
"#;

struct Scripts {
    configure: Script,
    view: Script,
    join: Script,
    standings: Script,
    heartbeat: Script,
    advance: Script,
    draw_chunk: Script,
    draw_done: Script,
    restore_begin: Script,
    restore_chunk: Script,
    restore_done: Script,
    finish: Script,
    sold_out: Script,
}

impl Scripts {
    /// The scripts on `clock` ([`REDIS_CLOCK`] or [`TEST_CLOCK`]).
    fn new(clock: &str) -> Self {
        let with = |parts: &[&str]| Script::new(&[&[clock, PRELUDE], parts].concat().concat());
        Scripts {
            configure: with(&[VIEW, CONFIGURE]),
            view: with(&[VIEW, READ_VIEW]),
            join: with(&[STANDING, JOIN]),
            standings: with(&[STANDING, STANDINGS]),
            heartbeat: with(&[HEARTBEAT]),
            advance: with(&[ADVANCE]),
            draw_chunk: with(&[DRAW_CHUNK]),
            draw_done: with(&[DRAW_DONE]),
            restore_begin: with(&[RESTORE_BEGIN]),
            restore_chunk: with(&[RESTORE_CHUNK]),
            restore_done: with(&[RESTORE_DONE]),
            finish: with(&[FINISH]),
            sold_out: with(&[SOLD_OUT]),
        }
    }
}

/// The key names of one sale.
struct Keys {
    cfg: String,
    pre: String,
    places: String,
    who: String,
    seen: String,
    admitted: String,
    active: String,
    ctl: String,
    /// The lock of a restore under way ([`RESTORE_BEGIN`]).
    restoring: String,
}

impl Keys {
    fn of(sale: SaleId) -> Keys {
        let key = |name: &str| format!("pk:{{s{sale}}}:{name}");
        Keys {
            cfg: key("cfg"),
            pre: key("pre"),
            places: key("places"),
            who: key("who"),
            seen: key("seen"),
            admitted: key("admitted"),
            active: key("active"),
            ctl: key("ctl"),
            restoring: key("restoring"),
        }
    }
}

/// The Redis store. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    scripts: std::sync::Arc<Scripts>,
}

/// TLS files for a `rediss://` URL, every one optional: without a CA file the server's
/// certificate is verified against the system's roots. Only paths; the files are read when the
/// store is made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedisTls {
    /// PEM CA certificate(s) the server's certificate must chain to (and only these).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate, for a server that verifies clients (`tls-auth-clients yes`,
    /// Redis' default); needs `key_file`.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
}

impl RedisTls {
    /// Whether any file is set (then the URL must be `rediss://`).
    pub fn is_set(&self) -> bool {
        self.ca_file.is_some() || self.cert_file.is_some() || self.key_file.is_some()
    }

    /// The client these files and `url` make: TLS with them, or as the URL says when none is set.
    fn client(&self, url: &str) -> Result<::redis::Client, StoreError> {
        if !self.is_set() {
            return ::redis::Client::open(url).map_err(unavailable);
        }
        let read = |what: &str, path: &Path| {
            std::fs::read(path).map_err(|error| {
                StoreError::Unavailable(format!(
                    "redis tls: cannot read {what} {}: {error}",
                    path.display()
                ))
            })
        };
        let client_tls = match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => Some(::redis::ClientTlsConfig {
                client_cert: read("cert_file", cert)?,
                client_key: read("key_file", key)?,
            }),
            (None, None) => None,
            _ => {
                return Err(StoreError::Unavailable(
                    "redis tls: cert_file and key_file go together".into(),
                ));
            }
        };
        let root_cert = match &self.ca_file {
            Some(ca) => Some(read("ca_file", ca)?),
            None => None,
        };
        ::redis::Client::build_with_tls(
            url,
            ::redis::TlsCertificates {
                client_tls,
                root_cert,
            },
        )
        .map_err(|error| StoreError::Unavailable(format!("redis tls: {error}")))
    }
}

impl RedisStore {
    /// Connects lazily: a gateway starts (and keeps its clients) while Redis is down, and the
    /// connection manager reconnects by itself when Redis is back. A `rediss://` URL is TLS,
    /// verified against the system's roots ([`RedisStore::connect_tls`] names a CA file).
    pub fn connect(url: &str) -> Result<RedisStore, StoreError> {
        Self::connect_with(url, REDIS_CLOCK, &RedisTls::default())
    }

    /// [`RedisStore::connect`] over TLS with `tls`'s CA and client certificate (`url` must be
    /// `rediss://…`). The files are read now; a certificate the server's does not chain to
    /// shows as [`StoreError::Unavailable`] naming the TLS failure on every call.
    pub fn connect_tls(url: &str, tls: &RedisTls) -> Result<RedisStore, StoreError> {
        Self::connect_with(url, REDIS_CLOCK, tls)
    }

    /// A store whose scripts read the time from [`TEST_CLOCK_KEY`] (milliseconds, written by the
    /// test before each call) instead of Redis' clock, so a test can run the scripts on the same
    /// fake clock as the pure core and compare them exactly. Never for a deployment.
    pub fn connect_on_test_clock(url: &str) -> Result<RedisStore, StoreError> {
        Self::connect_with(url, TEST_CLOCK, &RedisTls::default())
    }

    /// Whether `url` is a Redis URL (`redis://…`, `rediss://…`, `redis+unix://…`), checked
    /// without connecting: the reason when it is not.
    pub fn check_url(url: &str) -> Result<(), String> {
        ::redis::Client::open(url)
            .map(|_| ())
            .map_err(|error| format!("not a Redis URL (redis://…): {error}"))
    }

    fn connect_with(url: &str, clock: &str, tls: &RedisTls) -> Result<RedisStore, StoreError> {
        let client = tls.client(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(RedisStore {
            connection,
            scripts: std::sync::Arc::new(Scripts::new(clock)),
        })
    }

    async fn do_audit(&self, sale: SaleId) -> Result<Vec<String>, StoreError> {
        let order = self.do_drawn_order(sale).await?;
        if order.is_empty() {
            return Ok(Vec::new());
        }
        let entry_key = self.secret(&Keys::of(sale), "entry_key").await?;
        Ok(draw::audit_list(&entry_key, &order))
    }

    /// The pre-queue's identities in drawn order (empty before the draw).
    async fn do_drawn_order(&self, sale: SaleId) -> Result<Vec<String>, StoreError> {
        let view = self.do_view(sale).await?;
        if view.seed.is_none() {
            return Ok(Vec::new());
        }
        let keys = Keys::of(sale);
        let mut connection = self.connection.clone();
        let places: Vec<String> = (1..=view.prequeue).map(|p| p.to_string()).collect();
        let mut order = Vec::with_capacity(places.len());
        for chunk in places.chunks(DRAW_CHUNK_MAX) {
            let ids: Vec<Option<String>> = ::redis::cmd("HMGET")
                .arg(&keys.who)
                .arg(chunk)
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            order.extend(ids.into_iter().flatten());
        }
        Ok(order)
    }

    async fn do_secrets(&self, sale: SaleId) -> Result<DrawSecrets, StoreError> {
        let keys = Keys::of(sale);
        Ok(DrawSecrets {
            seed: self.secret(&keys, "seed").await?,
            entry_key: self.secret(&keys, "entry_key").await?,
        })
    }

    /// [`QueueStore::restore`]: begin (only while the sale is absent, under the restore lock),
    /// the drawn places in chunks of [`DRAW_CHUNK_MAX`], then `cfg`, which makes the sale exist:
    /// until then every other script answers `unknown` for it, so nobody sees it half restored.
    async fn do_restore(&self, sale: SaleId, record: &SaleRecord) -> Result<bool, StoreError> {
        record.check().map_err(|why| {
            StoreError::Protocol(format!("sale {sale} cannot be restored: {why}"))
        })?;
        let keys = Keys::of(sale);
        let restorer = draw::new_seed();
        let lock_ms = RESTORE_LOCK_MS;
        let mut invocation = self.scripts.restore_begin.prepare_invoke();
        invocation
            .key(&keys.cfg)
            .key(&keys.restoring)
            .key(&keys.pre)
            .key(&keys.places)
            .key(&keys.who)
            .key(&keys.seen)
            .key(&keys.admitted)
            .key(&keys.active)
            .key(&keys.ctl)
            .arg(&restorer)
            .arg(lock_ms);
        if !restore_step_ok(self.strings(invocation).await?)? {
            return Ok(false);
        }
        let (open_at_ms, watermark) = match &record.drawn {
            Some(drawn) => (
                drawn.open_at_ms,
                drawn.watermark.min(drawn.order.len() as u64),
            ),
            None => (record.settings.open_at_ms, 0),
        };
        let order = record.drawn.as_ref().map_or(&[][..], |d| &d.order[..]);
        for (index, chunk) in order.chunks(DRAW_CHUNK_MAX).enumerate() {
            let mut invocation = self.scripts.restore_chunk.prepare_invoke();
            invocation
                .key(&keys.cfg)
                .key(&keys.restoring)
                .key(&keys.pre)
                .key(&keys.who)
                .key(&keys.places)
                .key(&keys.seen)
                .arg(&restorer)
                .arg(lock_ms)
                .arg(watermark)
                .arg(index * DRAW_CHUNK_MAX + 1)
                .arg(chunk);
            if !restore_step_ok(self.strings(invocation).await?)? {
                return Ok(false);
            }
        }
        let s = &record.settings;
        let mut invocation = self.scripts.restore_done.prepare_invoke();
        invocation
            .key(&keys.cfg)
            .key(&keys.restoring)
            .arg(&restorer)
            .arg(open_at_ms)
            .arg(s.admit_per_sec)
            .arg(s.active_max)
            .arg(s.admission_ttl_ms)
            .arg(s.seat_limit)
            .arg(s.grace_ms)
            .arg(if s.paused { "1" } else { "0" })
            .arg(&record.secrets.seed)
            .arg(&record.secrets.entry_key)
            .arg(if record.drawn.is_some() { "1" } else { "0" })
            .arg(watermark);
        restore_step_ok(self.strings(invocation).await?)
    }

    async fn do_draw_entry(&self, sale: SaleId, identity: &str) -> Result<String, StoreError> {
        let entry_key = self.secret(&Keys::of(sale), "entry_key").await?;
        Ok(draw::entry(&entry_key, identity))
    }

    async fn strings(
        &self,
        invocation: ::redis::ScriptInvocation<'_>,
    ) -> Result<Vec<String>, StoreError> {
        let mut connection = self.connection.clone();
        let reply: Value = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let fields = strings_of(reply)?;
        if fields.first().map(String::as_str) == Some("unknown") {
            return Err(StoreError::UnknownSale);
        }
        Ok(fields)
    }

    async fn do_configure(
        &self,
        sale: SaleId,
        s: SaleSettings,
        secrets: DrawSecrets,
    ) -> Result<SaleView, StoreError> {
        let keys = Keys::of(sale);
        let mut invocation = self.scripts.configure.prepare_invoke();
        invocation
            .key(&keys.cfg)
            .key(&keys.pre)
            .key(&keys.active)
            .key(&keys.restoring)
            .arg(s.open_at_ms)
            .arg(s.admit_per_sec)
            .arg(s.active_max)
            .arg(s.admission_ttl_ms)
            .arg(s.seat_limit)
            .arg(s.grace_ms)
            .arg(if s.paused { "1" } else { "0" })
            .arg(&secrets.seed)
            .arg(&secrets.entry_key);
        let fields = self.strings(invocation).await?;
        if fields.first().map(String::as_str) == Some("restoring") {
            return Err(StoreError::Unavailable(format!(
                "sale {sale} is being restored: try again in a moment"
            )));
        }
        parse_view(sale, &fields)
    }

    async fn do_view(&self, sale: SaleId) -> Result<SaleView, StoreError> {
        let keys = Keys::of(sale);
        let mut invocation = self.scripts.view.prepare_invoke();
        invocation.key(&keys.cfg).key(&keys.pre).key(&keys.active);
        let fields = self.strings(invocation).await?;
        parse_view(sale, &fields)
    }

    async fn do_join(&self, sale: SaleId, identity: &str) -> Result<Standing, StoreError> {
        let keys = Keys::of(sale);
        let mut invocation = self.scripts.join.prepare_invoke();
        invocation
            .key(&keys.cfg)
            .key(&keys.pre)
            .key(&keys.places)
            .key(&keys.who)
            .key(&keys.seen)
            .key(&keys.admitted)
            .arg(identity);
        let fields = self.strings(invocation).await?;
        parse_standings(&fields)?
            .pop()
            .ok_or_else(|| StoreError::Protocol("empty join reply".into()))
    }

    async fn do_standings(
        &self,
        sale: SaleId,
        identities: &[String],
    ) -> Result<Vec<Standing>, StoreError> {
        let keys = Keys::of(sale);
        let mut all = Vec::with_capacity(identities.len());
        for chunk in identities.chunks(IDENTITIES_PER_CALL_MAX) {
            let mut invocation = self.scripts.standings.prepare_invoke();
            invocation
                .key(&keys.cfg)
                .key(&keys.pre)
                .key(&keys.places)
                .key(&keys.admitted)
                .arg(chunk);
            let fields = self.strings(invocation).await?;
            all.extend(parse_standings(&fields)?);
        }
        Ok(all)
    }

    async fn do_heartbeat(&self, sale: SaleId, identities: &[String]) -> Result<(), StoreError> {
        let keys = Keys::of(sale);
        for chunk in identities.chunks(IDENTITIES_PER_CALL_MAX) {
            let mut invocation = self.scripts.heartbeat.prepare_invoke();
            invocation.key(&keys.cfg).key(&keys.seen).arg(chunk);
            self.strings(invocation).await?;
        }
        Ok(())
    }

    async fn do_advance(
        &self,
        sale: SaleId,
        holder: &str,
        lease_ms: u64,
    ) -> Result<Advance, StoreError> {
        let keys = Keys::of(sale);
        let mut invocation = self.scripts.advance.prepare_invoke();
        invocation
            .key(&keys.cfg)
            .key(&keys.ctl)
            .key(&keys.pre)
            .key(&keys.who)
            .key(&keys.seen)
            .key(&keys.places)
            .key(&keys.admitted)
            .key(&keys.active)
            .arg(holder)
            .arg(lease_ms.max(1))
            .arg(ADVANCE_SCAN_MAX);
        let fields = self.strings(invocation).await?;
        let [leader, due, admitted, skipped, watermark] = fields.as_slice() else {
            return Err(StoreError::Protocol(format!("advance replied {fields:?}")));
        };
        Ok(Advance {
            leader: leader == "1",
            draw_due: due == "1",
            admitted: parse_number(admitted)?,
            skipped: parse_number(skipped)?,
            watermark: parse_number(watermark)?,
        })
    }

    async fn do_draw(&self, sale: SaleId, holder: &str, lease_ms: u64) -> Result<(), StoreError> {
        let keys = Keys::of(sale);
        let view = self.do_view(sale).await?;
        if view.status != SaleStatus::Drawing {
            return Ok(());
        }
        let mut connection = self.connection.clone();
        let members: Vec<String> = ::redis::cmd("SMEMBERS")
            .arg(&keys.pre)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let seed = self.secret(&keys, "seed").await?;
        let entry_key = self.secret(&keys, "entry_key").await?;
        let order = draw::draw_order(&seed, &entry_key, members);
        for (index, chunk) in order.chunks(DRAW_CHUNK_MAX).enumerate() {
            let first_place = index * DRAW_CHUNK_MAX + 1;
            let mut invocation = self.scripts.draw_chunk.prepare_invoke();
            invocation
                .key(&keys.cfg)
                .key(&keys.ctl)
                .key(&keys.places)
                .key(&keys.who)
                .arg(holder)
                .arg(lease_ms.max(1))
                .arg(first_place)
                .arg(chunk);
            if self.strings(invocation).await?.first().map(String::as_str) == Some("skip") {
                // Another controller holds the lease (or finished the draw): it draws.
                return Ok(());
            }
        }
        let mut invocation = self.scripts.draw_done.prepare_invoke();
        invocation
            .key(&keys.cfg)
            .key(&keys.ctl)
            .arg(holder)
            .arg(lease_ms.max(1));
        self.strings(invocation).await?;
        Ok(())
    }

    /// One of the draw's secrets (`seed` or `entry_key`), hex.
    async fn secret(&self, keys: &Keys, field: &str) -> Result<String, StoreError> {
        let mut connection = self.connection.clone();
        let secret: Option<String> = ::redis::cmd("HGET")
            .arg(&keys.cfg)
            .arg(field)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        secret.ok_or(StoreError::UnknownSale)
    }

    async fn do_finish(&self, sale: SaleId, identity: &str) -> Result<(), StoreError> {
        let keys = Keys::of(sale);
        let mut invocation = self.scripts.finish.prepare_invoke();
        invocation
            .key(&keys.admitted)
            .key(&keys.active)
            .arg(identity);
        self.strings(invocation).await.map(drop)
    }

    async fn do_finish_many(&self, sale: SaleId, identities: &[String]) -> Result<(), StoreError> {
        let keys = Keys::of(sale);
        for chunk in identities.chunks(IDENTITIES_PER_CALL_MAX) {
            let mut invocation = self.scripts.finish.prepare_invoke();
            invocation.key(&keys.admitted).key(&keys.active).arg(chunk);
            self.strings(invocation).await?;
        }
        Ok(())
    }

    async fn do_sold_out(&self, sale: SaleId, sold_out: bool) -> Result<(), StoreError> {
        let keys = Keys::of(sale);
        let mut invocation = self.scripts.sold_out.prepare_invoke();
        invocation
            .key(&keys.cfg)
            .arg(if sold_out { "1" } else { "0" });
        self.strings(invocation).await.map(drop)
    }
}

impl QueueStore for RedisStore {
    fn configure_with(
        &self,
        sale: SaleId,
        settings: SaleSettings,
        secrets: DrawSecrets,
    ) -> StoreFuture<'_, SaleView> {
        Box::pin(self.do_configure(sale, settings, secrets))
    }
    fn secrets(&self, sale: SaleId) -> StoreFuture<'_, DrawSecrets> {
        Box::pin(self.do_secrets(sale))
    }
    fn drawn_order(&self, sale: SaleId) -> StoreFuture<'_, Vec<String>> {
        Box::pin(self.do_drawn_order(sale))
    }
    fn restore<'a>(&'a self, sale: SaleId, record: &'a SaleRecord) -> StoreFuture<'a, bool> {
        Box::pin(self.do_restore(sale, record))
    }
    fn view(&self, sale: SaleId) -> StoreFuture<'_, SaleView> {
        Box::pin(self.do_view(sale))
    }
    fn join<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, Standing> {
        Box::pin(self.do_join(sale, identity))
    }
    fn standings<'a>(
        &'a self,
        sale: SaleId,
        identities: &'a [String],
    ) -> StoreFuture<'a, Vec<Standing>> {
        Box::pin(self.do_standings(sale, identities))
    }
    fn heartbeat<'a>(&'a self, sale: SaleId, identities: &'a [String]) -> StoreFuture<'a, ()> {
        Box::pin(self.do_heartbeat(sale, identities))
    }
    fn advance<'a>(
        &'a self,
        sale: SaleId,
        holder: &'a str,
        lease_ms: u64,
    ) -> StoreFuture<'a, Advance> {
        Box::pin(self.do_advance(sale, holder, lease_ms))
    }
    fn draw<'a>(&'a self, sale: SaleId, holder: &'a str, lease_ms: u64) -> StoreFuture<'a, ()> {
        Box::pin(self.do_draw(sale, holder, lease_ms))
    }
    fn finish<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.do_finish(sale, identity))
    }
    fn finish_many<'a>(&'a self, sale: SaleId, identities: &'a [String]) -> StoreFuture<'a, ()> {
        Box::pin(self.do_finish_many(sale, identities))
    }
    fn set_sold_out(&self, sale: SaleId, sold_out: bool) -> StoreFuture<'_, ()> {
        Box::pin(self.do_sold_out(sale, sold_out))
    }
    fn audit(&self, sale: SaleId) -> StoreFuture<'_, Vec<String>> {
        Box::pin(self.do_audit(sale))
    }
    fn draw_entry<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, String> {
        Box::pin(self.do_draw_entry(sale, identity))
    }
}

/// Whether a restore step went through: `false` when the sale exists again (restored by
/// another process, or created by an operator meanwhile) or another restorer holds the lock.
fn restore_step_ok(fields: Vec<String>) -> Result<bool, StoreError> {
    match fields.first().map(String::as_str) {
        Some("ok") => Ok(true),
        Some("exists" | "busy") => Ok(false),
        _ => Err(StoreError::Protocol(format!("restore replied {fields:?}"))),
    }
}

fn unavailable(error: ::redis::RedisError) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn strings_of(value: Value) -> Result<Vec<String>, StoreError> {
    let Value::Array(items) = value else {
        return Err(StoreError::Protocol(format!(
            "expected an array, got {value:?}"
        )));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::BulkString(bytes) => String::from_utf8(bytes)
                .map_err(|_| StoreError::Protocol("a reply was not UTF-8".into())),
            Value::SimpleString(text) => Ok(text),
            Value::Int(n) => Ok(n.to_string()),
            other => Err(StoreError::Protocol(format!("unexpected {other:?}"))),
        })
        .collect()
}

fn parse_number<T: std::str::FromStr>(text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Protocol(format!("not a number: {text:?}")))
}

fn parse_view(sale: SaleId, f: &[String]) -> Result<SaleView, StoreError> {
    if f.len() != 15 {
        return Err(StoreError::Protocol(format!("view replied {f:?}")));
    }
    let settings = SaleSettings {
        open_at_ms: parse_number(&f[0])?,
        admit_per_sec: parse_number(&f[1])?,
        active_max: parse_number(&f[2])?,
        admission_ttl_ms: parse_number(&f[3])?,
        seat_limit: parse_number(&f[4])?,
        grace_ms: parse_number(&f[5])?,
        paused: f[6] == "1",
    };
    let seed = f[7].clone();
    let drawn = f[8] == "1";
    let sold_out = f[9] == "1";
    let watermark = parse_number(&f[10])?;
    let late: u64 = parse_number(&f[11])?;
    let prequeue: u64 = parse_number(&f[12])?;
    let active = parse_number(&f[13])?;
    let now_ms: u64 = parse_number(&f[14])?;
    let tail = if now_ms < settings.open_at_ms {
        0
    } else {
        prequeue + late
    };
    Ok(SaleView {
        sale,
        status: status_of(&settings, now_ms, drawn, sold_out),
        settings,
        watermark,
        tail,
        prequeue,
        active,
        seed_hash: draw::seed_hash(&seed),
        seed: drawn.then_some(seed),
        sold_out,
    })
}

fn parse_standings(fields: &[String]) -> Result<Vec<Standing>, StoreError> {
    fields
        .chunks(3)
        .map(|triple| match triple {
            [kind, _, _] if kind == "absent" => Ok(Standing::Absent),
            [kind, _, _] if kind == "pre" => Ok(Standing::PreQueue),
            [kind, place, _] if kind == "waiting" => Ok(Standing::Waiting {
                place: parse_number(place)?,
            }),
            [kind, jti, expires] if kind == "admitted" => Ok(Standing::Admitted {
                jti: parse_number(jti)?,
                expires_at_ms: parse_number(expires)?,
            }),
            other => Err(StoreError::Protocol(format!("standing {other:?}"))),
        })
        .collect()
}
