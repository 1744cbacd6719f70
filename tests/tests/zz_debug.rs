#[test]
fn dbg_kill() {
    let mut pg = picket_tests::Postgres::start().unwrap();
    let port = pg.port();
    let out = std::process::Command::new("sh").args(["-c", &format!("ps -ef | grep -E 'postgres.*{port}|runuser' | grep -v grep")]).output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    pg.kill().unwrap();
    let out = std::process::Command::new("sh").args(["-c", &format!("ps -ef | grep -E 'postgres.*{port}|runuser' | grep -v grep")]).output().unwrap();
    eprintln!("after: {}", String::from_utf8_lossy(&out.stdout));
}
