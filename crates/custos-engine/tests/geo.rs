//! The test MaxMind database reads back through the `maxminddb` crate.

use std::net::IpAddr;

#[test]
fn the_test_database_answers_lookups() {
    let bytes = custos_testkit::mmdb::country_db(&[
        ("203.0.113.0".parse().expect("ip"), 24, "DE"),
        ("198.51.100.0".parse().expect("ip"), 24, "FR"),
    ]);
    let reader = maxminddb::Reader::from_source(bytes).expect("a valid database");
    let country = |ip: &str| {
        let ip: IpAddr = ip.parse().expect("ip");
        reader
            .lookup::<maxminddb::geoip2::Country<'_>>(ip)
            .ok()
            .and_then(|c| c.country)
            .and_then(|c| c.iso_code)
            .map(str::to_owned)
    };
    assert_eq!(country("203.0.113.77").as_deref(), Some("DE"));
    assert_eq!(country("198.51.100.1").as_deref(), Some("FR"));
    assert_eq!(country("192.0.2.1"), None);
}
