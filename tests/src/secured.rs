//! NATS with the users of `deploy/nats/accounts.conf` and PostgreSQL, both serving TLS with
//! certificates of one private CA: what the tests of TLS between services and of the NATS
//! accounts run roles against (`tests/tests/tls.rs`, the root package's `tests/tls_roles.rs`).

use picket_ledger_client::NatsAuth;

use crate::HarnessError;
use crate::nats::{Nats, NatsAccounts};
use crate::postgres::Postgres;
use crate::tls::{ServerTls, TestCa};

/// The servers, the CA that signed their certificates and the NATS users' seeds.
pub struct SecuredServices {
    pub ca: TestCa,
    pub users: NatsAccounts,
    pub nats: Nats,
    pub postgres: Postgres,
    /// `database`'s URL with `sslmode=verify-full` against the CA.
    pub database_url: String,
}

impl SecuredServices {
    /// Starts both servers and creates `database`.
    pub fn start(database: &str) -> Result<Self, HarnessError> {
        let ca = TestCa::new("picket test ca")?;
        let users = NatsAccounts::new()?;
        let nats = Nats::start_with(
            users.server_options(Some(ServerTls::from(&ca.issue_loopback("nats")?))),
        )?;
        let postgres = Postgres::start_tls(&ServerTls::from(&ca.issue_loopback("postgres")?))?;
        postgres.create_database(database)?;
        let database_url = postgres.tls_url(database, ca.ca_file());
        Ok(SecuredServices {
            ca,
            users,
            nats,
            postgres,
            database_url,
        })
    }

    /// What a process of `role` (one of `nats::ACCOUNT_ROLES`) connects to NATS with: the CA and
    /// its user's NKey seed file.
    pub fn nats_auth(&self, role: &str) -> NatsAuth {
        NatsAuth {
            ca_file: Some(self.ca.ca_file().to_path_buf()),
            creds_file: Some(self.users.seed_file(role)),
            ..NatsAuth::default()
        }
    }
}
