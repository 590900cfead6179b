//! Random bytes from the thread's cryptographically secure generator.

use rand::RngCore;

/// `N` random bytes from `rand::rng()` (ChaCha seeded and reseeded from the OS).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_draws_differ() {
        assert_ne!(random_bytes::<32>(), random_bytes::<32>());
    }
}
