//! A small writer of MaxMind DB files (IPv4, 24-bit records), for tests of geo-location:
//! it writes what the `maxminddb` crate reads, from a few networks and their countries.
//! Format: <https://maxmind.github.io/MaxMind-DB/>.

use std::net::Ipv4Addr;

/// Encodes a UTF-8 string in the MaxMind DB data format.
fn string(out: &mut Vec<u8>, s: &str) {
    assert!(s.len() < 29, "short strings only");
    out.push((2 << 5) | s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

/// Encodes an unsigned integer of `kind` (5 = uint16, 6 = uint32, 9 = uint64).
fn uint(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes: Vec<u8> = value.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
    if kind <= 7 {
        out.push((kind << 5) | bytes.len() as u8);
    } else {
        out.push(bytes.len() as u8);
        out.push(kind - 7);
    }
    out.extend_from_slice(&bytes);
}

fn map_header(out: &mut Vec<u8>, pairs: u8) {
    out.push((7 << 5) | pairs);
}

/// A database mapping each `(network, prefix length)` to its ISO country code.
pub fn country_db(networks: &[(Ipv4Addr, u8, &str)]) -> Vec<u8> {
    // The data section: one record per network, `{"country": {"iso_code": CODE}}`.
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for (_, _, code) in networks {
        offsets.push(data.len());
        map_header(&mut data, 1);
        string(&mut data, "country");
        map_header(&mut data, 1);
        string(&mut data, "iso_code");
        string(&mut data, code);
    }
    // The search tree: a binary trie over the address bits; nodes[i] = [left, right].
    #[derive(Clone, Copy)]
    enum Slot {
        Empty,
        Node(usize),
        Data(usize),
    }
    let mut nodes: Vec<[Slot; 2]> = vec![[Slot::Empty, Slot::Empty]];
    for (n, (network, prefix, _)) in networks.iter().enumerate() {
        let bits = u32::from(*network);
        let mut node = 0;
        for depth in 0..*prefix {
            let bit = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == *prefix {
                nodes[node][bit] = Slot::Data(offsets[n]);
            } else {
                node = match nodes[node][bit] {
                    Slot::Node(next) => next,
                    _ => {
                        nodes.push([Slot::Empty, Slot::Empty]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Slot::Node(next);
                        next
                    }
                };
            }
        }
    }
    let node_count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for slot in node {
            let record = match slot {
                Slot::Empty => node_count,
                Slot::Node(next) => *next,
                Slot::Data(offset) => node_count + 16 + offset,
            } as u32;
            out.extend_from_slice(&record.to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&data);
    // The metadata, after its marker.
    out.extend_from_slice(&[0xAB, 0xCD, 0xEF]);
    out.extend_from_slice(b"MaxMind.com");
    map_header(&mut out, 9);
    string(&mut out, "node_count");
    uint(&mut out, 6, node_count as u64);
    string(&mut out, "record_size");
    uint(&mut out, 5, 24);
    string(&mut out, "ip_version");
    uint(&mut out, 5, 4);
    string(&mut out, "database_type");
    string(&mut out, "custos-test-Country");
    string(&mut out, "languages");
    out.push(0);
    out.push(11 - 7);
    string(&mut out, "binary_format_major_version");
    uint(&mut out, 5, 2);
    string(&mut out, "binary_format_minor_version");
    uint(&mut out, 5, 0);
    string(&mut out, "build_epoch");
    uint(&mut out, 9, 1_800_000_000);
    string(&mut out, "description");
    map_header(&mut out, 0);
    out
}
