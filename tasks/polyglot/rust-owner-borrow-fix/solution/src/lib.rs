//! Labels for lists of names.
//!
//! `join_with` renders a labelled, comma-separated list and also reports
//! how long the label was, so that callers can align several lists.

/// Returns `"<prefix>: a, b, c"` and the length of `prefix` in bytes.
#[must_use]
pub fn join_with(prefix: String, items: &[String]) -> (String, usize) {
    let body = items.join(", ");
    let prefix_len = prefix.len();
    let result = prefix + ": " + &body;
    (result, prefix_len)
}
