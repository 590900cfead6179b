//! The policy parser never panics, whatever it is given: it returns a policy or errors.

use custos_policy::Policy;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(text in "\\PC*") {
        let _ = Policy::from_toml(&text, "fuzz.toml");
    }

    #[test]
    fn toml_shaped_text(text in r#"(\[\[?(purpose|category|recipient|cookie|retention|policy|rights|controller)\]\]?\n|[a-z_]{1,12} = ("[^"\n]{0,20}"|\[("[a-z._-]{0,20}", ?){0,3}\]|true|[0-9]{1,3})\n){0,40}"#) {
        let _ = Policy::from_toml(&text, "fuzz.toml");
    }

    #[test]
    fn the_example_with_a_slice_cut_out(start in 0usize..20_000, len in 0usize..400) {
        let example = custos_policy::EXAMPLE_TOML.as_bytes();
        let start = start.min(example.len());
        let end = (start + len).min(example.len());
        let mut bytes = example[..start].to_vec();
        bytes.extend_from_slice(&example[end..]);
        let text = String::from_utf8_lossy(&bytes);
        let _ = Policy::from_toml(&text, "fuzz.toml");
    }

    #[test]
    fn the_example_with_a_line_replaced(line in 0usize..600, replacement in r#"[a-z_]{1,10} = ("[a-zA-Z. -]{0,15}"|\[\]|false|P[0-9]{1,2}[DMY]|-?[0-9]{1,4})"#) {
        let mut lines: Vec<&str> = custos_policy::EXAMPLE_TOML.lines().collect();
        let at = line % lines.len();
        lines[at] = &replacement;
        let _ = Policy::from_toml(&lines.join("\n"), "fuzz.toml");
    }
}
