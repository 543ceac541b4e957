//! Shared by every issuer test (and the benchmark): real stores on both
//! backends, a throwaway PostgreSQL cluster, and the test city's issuer key.
//!
//! The PostgreSQL cluster is started once per test binary from Debian's
//! `postgresql` package (`/usr/lib/postgresql/*/bin`), in a temporary
//! directory, on a free loopback port; each test gets its own database.
//! `initdb` refuses to run as root, so as root the cluster runs as the
//! `postgres` user. It is stopped when the test binary exits (and killed
//! with it should the binary die).
#![allow(dead_code)]

use sealpass_core::{CheckpointPolicy, Colour, Timestamp, testkit};
use sealpass_issuer::store::Store;
use sealpass_issuer::write::ingest::{self, Format, Kind, ReaderSource, Report};
use sealpass_issuer::write::signer::IssuerKey;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Which store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// A migrated, empty store of `backend`; the guard keeps its files alive.
pub async fn store(backend: Backend) -> (Store, StoreGuard) {
    let (url, guard) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let path = dir.path().join("issuer.db");
            (
                path.to_str().expect("UTF-8 path").to_owned(),
                StoreGuard::Dir(dir),
            )
        }
        Backend::Postgres => (postgres().fresh_database().await, StoreGuard::None),
    };
    let store = Store::open(&url).await.expect("the store opens");
    store.migrate().await.expect("the store migrates");
    (store, guard)
}

pub enum StoreGuard {
    Dir(tempfile::TempDir),
    None,
}

/// The test city's issuer key (testkit: public, never for real use).
pub fn issuer_key() -> IssuerKey {
    IssuerKey::new(Arc::new(sealpass_core::ExpandedKey::new(
        &testkit::City::new().active,
    )))
}

/// Three people of the test city, all enrolled without a refusal (the
/// first with a vaccination and a test).
pub const PEOPLE_CSV: &str = "\
subject,name,id_number,colour,doses,last_dose,test_time,test_result
XA-001,张三明,610102199001011231,green,3,2022-01-15,1795146000,negative
XA-002,李四,11010519491231002X,yellow,2,,,
XA-003,王小红,610113198505050001,green,1,,,
";

/// `csv` of `kind` ingested straight into `store` (not through the admin
/// API), in the name of the token `token`, at `now`.
pub async fn ingest_csv(
    store: &Store,
    kind: Kind,
    csv: &str,
    token: &str,
    now: Timestamp,
) -> Report {
    ingest::ingest(
        store,
        kind,
        Format::Csv,
        ReaderSource::new(csv.as_bytes()),
        token,
        now,
        &mut |_| {},
    )
    .await
    .expect("the CSV is ingested")
}

/// A checkpoint policy that accepts every colour: for tests of a pass's
/// signature and lists, not of its colour.
pub fn any_colour() -> CheckpointPolicy {
    CheckpointPolicy {
        name: "any colour".into(),
        colours: Colour::ALL.to_vec(),
        max_test_age: None,
        min_doses: None,
        danger_accept_unchecked_revocation: false,
        require_live_code: false,
    }
}

/// A throwaway PostgreSQL cluster.
pub struct Cluster {
    dir: PathBuf,
    port: u16,
    server: Mutex<Option<Child>>,
    databases: AtomicU32,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The cluster of this test binary, started on first use.
pub fn postgres() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let cluster = Cluster::start(false);
        // SAFETY: registers a plain function to run at exit.
        unsafe { libc::atexit(stop_cluster_at_exit) };
        cluster
    })
}

extern "C" fn stop_cluster_at_exit() {
    if let Some(cluster) = CLUSTER.get() {
        cluster.stop();
    }
}

/// Debian's PostgreSQL binaries, newest version first.
pub fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/install-test-deps installs it)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions
        .pop()
        .expect("a PostgreSQL server under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn id_of(flag: &str) -> u32 {
    let out = Command::new("id")
        .args([flag, "postgres"])
        .output()
        .expect("id runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a postgres user exists")
}

/// A command that runs as the `postgres` user when we are root.
fn as_postgres(program: &Path) -> Command {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(program);
    if is_root() {
        command.uid(id_of("-u")).gid(id_of("-g"));
    }
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl Cluster {
    /// initdb and start a server. `durable`: fsync as in production (for
    /// benchmarks); otherwise fsync is off, which only matters if the
    /// machine crashes during a test.
    pub fn start(durable: bool) -> Cluster {
        let bin = postgres_bin();
        let dir = std::env::temp_dir().join(format!(
            "sealpass-pg-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("a cluster directory");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of {} failed", dir.display());
        }
        let data = dir.join("data");
        let output = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "sealpass",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ])
            .stdin(Stdio::null())
            .output()
            .expect("initdb runs");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let port = free_port();
        let mut command = as_postgres(&bin.join("postgres"));
        command
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-k")
            .arg(&dir)
            .args(["-c", "max_connections=200", "-c", "shared_buffers=256MB"]);
        if !durable {
            command.args(["-c", "fsync=off", "-c", "full_page_writes=off"]);
        }
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl in the child before exec; async-signal-safe.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
        }
        let log = std::fs::File::create(dir.join("server.log")).expect("a log file");
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        // PR_SET_PDEATHSIG fires when the *thread* that spawned the child
        // ends, so spawn from a thread that lives as long as the process.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(command.spawn());
            loop {
                std::thread::park();
            }
        });
        let server = receiver
            .recv()
            .expect("the spawning thread answers")
            .expect("postgres starts");
        let cluster = Cluster {
            dir,
            port,
            server: Mutex::new(Some(server)),
            databases: AtomicU32::new(0),
        };
        cluster.wait_ready(&bin);
        cluster
    }

    fn wait_ready(&self, bin: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://sealpass@127.0.0.1:{}/{name}", self.port)
    }

    /// A new empty database for one test.
    pub async fn fresh_database(&self) -> String {
        let name = format!("test_{}", self.databases.fetch_add(1, Ordering::SeqCst));
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .expect("the cluster accepts connections");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("a test database");
        admin.close().await.ok();
        self.url(&name)
    }

    /// Stop the server (fast shutdown) and remove its files.
    pub fn stop(&self) {
        let server = self.server.lock().map(|mut s| s.take()).unwrap_or(None);
        if let Some(mut server) = server {
            // SIGINT: fast shutdown (roll back sessions, checkpoint, exit).
            unsafe { libc::kill(server.id() as i32, libc::SIGINT) };
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = server.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = server.kill();
            let _ = server.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `BIN --store STORE token create --name NAME --scope SCOPE` through the
/// real binary (`env!("CARGO_BIN_EXE_sealpass-issuer")`, which only the
/// issuer's own tests have; the benchmark shares this file), checked to
/// succeed: its output.
pub fn create_token_by_cli(
    bin: &str,
    store: &Path,
    name: &str,
    scope: &str,
) -> std::process::Output {
    let made = Command::new(bin)
        .arg("--store")
        .arg(store)
        .args(["token", "create", "--name", name, "--scope", scope])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    made
}

/// A server `child` listening on `addr` gets SIGTERM while a request is in
/// flight (`first` of it sent): it must keep running and refuse new
/// connections, then answer the request once `rest` arrives. The answer.
pub fn sigterm_with_request_in_flight(
    child: &mut Child,
    addr: std::net::SocketAddr,
    first: &[u8],
    rest: &[u8],
) -> String {
    use std::io::{Read, Write};
    let mut in_flight = std::net::TcpStream::connect(addr).unwrap();
    in_flight.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(300)); // accepted and being read
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "stopped with a request in flight"
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting after SIGTERM"
    );
    in_flight.write_all(rest).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    answer
}

/// How `child` exited, within `limit`.
pub fn wait_for_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
