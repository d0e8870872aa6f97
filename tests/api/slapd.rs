//! A throwaway OpenLDAP server (`slapd` from Debian's packages) for the
//! LDAP tests: a cn=config and an mdb database in a temporary directory,
//! listening on a free loopback port, loaded with the entries below.
//!
//! slapd runs under a small `sh` that kills it as soon as the test process
//! closes the shell's stdin: when a `Slapd` is dropped, or when the test
//! binary exits (the shared instance lives in a static and is never dropped).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ldap3::{LdapConnAsync, LdapConnSettings, Scope};
use tokio::sync::OnceCell;

pub const SUFFIX: &str = "dc=example,dc=org";
pub const PEOPLE: &str = "ou=people,dc=example,dc=org";
/// Entries here are readable only after a service bind.
pub const STAFF: &str = "ou=staff,dc=example,dc=org";
/// The service account that may read `STAFF`.
pub const READER_DN: &str = "cn=reader,dc=example,dc=org";
pub const READER_PASSWORD: &str = "reader-secret";

/// Directory users and their passwords (`uid` = TimeSync username).
pub const ALICE: (&str, &str) = ("alice", "alice-secret");
pub const BOB: (&str, &str) = ("bob", "bob-secret");
pub const DAVE: (&str, &str) = ("dave", "dave-secret");
pub const ERIN: (&str, &str) = ("erin", "erin-secret");
/// Under `STAFF`: found only with the service bind.
pub const CAROL: (&str, &str) = ("carol", "carol-secret");
/// Two entries carry `uid: twin`, both with this password.
pub const TWIN: (&str, &str) = ("twin", "twin-secret");

const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";
const MODULES: &str = "/usr/lib/ldap";
const SCHEMAS: &str = "/etc/ldap/schema";

/// True when the OpenLDAP server binaries are installed.
pub fn installed() -> bool {
    Path::new(SLAPD).exists() && Path::new(SLAPADD).exists()
}

/// Fails the test, naming what to install, when slapd is missing: the
/// LDAP tests are `#[ignore]`d under plain `cargo test` and run (with
/// `--include-ignored`) where slapd is provided, as in scripts/test.sh.
fn require_installed() {
    assert!(
        installed(),
        "slapd is not installed at {SLAPD}: install Debian's slapd and ldap-utils \
         (scripts/test.sh does as root), or leave the LDAP tests ignored"
    );
}

/// The slapd shared by the LDAP tests that do not stop or pause it,
/// started on first use.
pub async fn shared() -> &'static Slapd {
    static SHARED: OnceCell<Slapd> = OnceCell::const_new();
    SHARED.get_or_init(Slapd::start).await
}

/// A running slapd.
pub struct Slapd {
    /// `ldap://127.0.0.1:PORT`
    pub url: String,
    /// Present when started with `start_tls`.
    pub tls: Option<Tls>,
    /// Process id of slapd itself (for pausing it).
    pub pid: u32,
    /// The `sh` guarding slapd; closing its stdin stops slapd.
    guard: Child,
    dir: tempfile::TempDir,
}

/// The TLS side of a slapd started with `Slapd::start_tls`.
pub struct Tls {
    /// `ldaps://127.0.0.1:PORT`
    pub ldaps_url: String,
    /// PEM file of the CA that signed the server's certificate (for 127.0.0.1).
    pub ca_file: PathBuf,
}

impl Slapd {
    /// Configures, loads and starts a slapd; returns once it answers.
    pub async fn start() -> Slapd {
        Self::launch(false).await
    }

    /// A slapd that serves ldaps:// too, offers StartTLS on ldap://, and
    /// refuses every operation that is not protected by TLS. Needs the
    /// `openssl` command for the certificates.
    pub async fn start_tls() -> Slapd {
        Self::launch(true).await
    }

    async fn launch(with_tls: bool) -> Slapd {
        require_installed();
        assert!(
            !with_tls || openssl_installed(),
            "the openssl command is missing: the TLS test needs it for its certificates"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let config_dir = dir.path().join("slapd.d");
        let data_dir = dir.path().join("data");
        std::fs::create_dir_all(&config_dir).expect("config dir");
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let port = free_port();
        let url = format!("ldap://127.0.0.1:{port}");
        let mut listeners = format!("{url}/");
        let mut tls_config = String::new();
        let tls = if with_tls {
            let certs = make_certificates(dir.path());
            tls_config = format!(
                "olcTLSCertificateFile: {}\nolcTLSCertificateKeyFile: {}\nolcSecurity: tls=1\n",
                certs.cert.display(),
                certs.key.display()
            );
            let ldaps_url = format!("ldaps://127.0.0.1:{}", free_port());
            listeners.push_str(&format!(" {ldaps_url}/"));
            Some(Tls {
                ldaps_url,
                ca_file: certs.ca,
            })
        } else {
            None
        };
        let config = dir.path().join("config.ldif");
        std::fs::write(&config, config_ldif(dir.path(), &data_dir, &tls_config))
            .expect("config.ldif");
        let entries = dir.path().join("entries.ldif");
        std::fs::write(&entries, ENTRIES).expect("entries.ldif");
        slapadd(&["-n0", "-F"], &config_dir, &config);
        slapadd(&["-n1", "-F"], &config_dir, &entries);

        let log = dir.path().join("slapd.log");
        // A huge open-files limit makes slapd slow and memory-hungry.
        let script = r#"ulimit -n 1024
"$1" -d 0 -h "$2" -F "$3" </dev/null >"$4" 2>&1 &
pid=$!
echo "$pid"
read -r _ || true
kill -TERM "$pid" 2>/dev/null
kill -CONT "$pid" 2>/dev/null
wait "$pid"
rm -rf "$5"
"#;
        let mut guard = Command::new("sh")
            .args(["-c", script, "slapd-guard", SLAPD, &listeners])
            .arg(&config_dir)
            .arg(&log)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sh for slapd");
        let mut first = String::new();
        BufReader::new(guard.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("slapd pid");
        let pid = first.trim().parse().expect("slapd pid");
        let slapd = Slapd {
            url,
            tls,
            pid,
            guard,
            dir,
        };
        slapd.wait_ready(&log).await;
        slapd
    }

    /// Polls an anonymous base search until slapd answers (with any result:
    /// a TLS-only slapd refuses it, but only once it is serving).
    async fn wait_ready(&self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if answers(&self.url).await {
                return;
            }
            if Instant::now() > deadline || !self.alive() {
                panic!(
                    "slapd at {} did not become ready; its log:\n{}",
                    self.url,
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process state letter of slapd (`R`, `S`, `T`, `Z`...), `None` once gone.
    fn state(&self) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        // `pid (comm) STATE ...`
        stat.rsplit(')').next()?.trim_start().chars().next()
    }

    /// False once slapd has exited (gone, or a zombie not yet reaped).
    fn alive(&self) -> bool {
        !matches!(self.state(), None | Some('Z'))
    }

    /// Freezes slapd (SIGSTOP): it still accepts connections but never
    /// answers. Returns once the kernel reports it stopped.
    pub async fn pause(&self) {
        signal("-STOP", self.pid);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.state() != Some('T') {
            assert!(Instant::now() < deadline, "slapd did not stop");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn resume(&self) {
        signal("-CONT", self.pid);
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        // Closing the guard's stdin makes it stop slapd and exit.
        if let Some(mut stdin) = self.guard.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let _ = self.guard.wait();
    }
}

fn signal(which: &str, pid: u32) {
    let status = Command::new("kill")
        .args([which, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {which} {pid} failed");
}

/// True when an anonymous search of the suffix succeeds.
async fn answers(url: &str) -> bool {
    let quick = Duration::from_secs(1);
    let settings = LdapConnSettings::new().set_conn_timeout(quick);
    let Ok((conn, mut ldap)) = LdapConnAsync::with_settings(settings, url).await else {
        return false;
    };
    tokio::spawn(async move {
        let _ = conn.drive().await;
    });
    ldap.with_timeout(quick)
        .search(SUFFIX, Scope::Base, "(objectClass=*)", vec!["1.1"])
        .await
        .is_ok()
}

/// A loopback port with nothing listening on it (as of now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn slapadd(args: &[&str], config_dir: &Path, ldif: &Path) {
    let out = Command::new(SLAPADD)
        .args(args)
        .arg(config_dir)
        .arg("-l")
        .arg(ldif)
        .output()
        .expect("run slapadd");
    assert!(
        out.status.success(),
        "slapadd {args:?} {} failed: {}",
        ldif.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// True when certificates for `Slapd::start_tls` can be made.
pub fn openssl_installed() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct Certificates {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// A throwaway CA and a server certificate for the IP address 127.0.0.1
/// signed by it (P-256 keys: quick to make).
fn make_certificates(dir: &Path) -> Certificates {
    let path = |name: &str| dir.join(name).display().to_string();
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("server.ext");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(&[
        &[
            "req",
            "-x509",
            "-days",
            "2",
            "-subj",
            "/CN=TimeSync test CA",
        ],
        &ec[..],
        &["-keyout", &path("ca.key"), "-out", &path("ca.pem")],
        &["-addext", "basicConstraints=critical,CA:TRUE"],
        &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ]);
    openssl(&[
        &["req", "-subj", "/CN=127.0.0.1"],
        &ec[..],
        &["-keyout", &path("server.key"), "-out", &path("server.csr")],
    ]);
    openssl(&[&[
        "x509",
        "-req",
        "-days",
        "2",
        "-in",
        &path("server.csr"),
        "-CA",
        &path("ca.pem"),
        "-CAkey",
        &path("ca.key"),
        "-CAcreateserial",
        "-extfile",
        &path("server.ext"),
        "-out",
        &path("server.pem"),
    ]]);
    Certificates {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

fn openssl(args: &[&[&str]]) {
    let args: Vec<&str> = args.concat();
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn config_ldif(run_dir: &Path, data_dir: &Path, tls: &str) -> String {
    let run = run_dir.display();
    let data = data_dir.display();
    format!(
        r#"dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {run}/slapd.pid
olcArgsFile: {run}/slapd.args
olcAllows: bind_anon_dn
{tls}
dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULES}
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://{SCHEMAS}/core.ldif

include: file://{SCHEMAS}/cosine.ldif

include: file://{SCHEMAS}/nis.ldif

include: file://{SCHEMAS}/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {data}
olcDbMaxSize: 16777216
olcRootDN: cn=admin,{SUFFIX}
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to dn.subtree="{STAFF}" by dn.exact="{READER_DN}" read by * none
olcAccess: {{2}}to * by * read
"#
    )
}

/// The directory: alice (has a TimeSync account in the tests), bob (has
/// none), dave and erin (inactive / deleted accounts), carol (hidden from
/// anonymous search), two entries sharing `uid: twin`, and the reader.
const ENTRIES: &str = r#"dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=staff,dc=example,dc=org
objectClass: organizationalUnit
ou: staff

dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-secret

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
sn: Example
userPassword: alice-secret

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob Example
sn: Example
userPassword: bob-secret

dn: uid=dave,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: dave
cn: Dave Example
sn: Example
userPassword: dave-secret

dn: uid=erin,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: erin
cn: Erin Example
sn: Example
userPassword: erin-secret

dn: uid=carol,ou=staff,dc=example,dc=org
objectClass: inetOrgPerson
uid: carol
cn: Carol Example
sn: Example
userPassword: carol-secret

dn: cn=Twin One,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: twin
cn: Twin One
sn: One
userPassword: twin-secret

dn: cn=Twin Two,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: twin
cn: Twin Two
sn: Two
userPassword: twin-secret
"#;
