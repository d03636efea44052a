/// Returns the longer of two string slices; on a tie, the left one.
pub fn longest(left: &str, right: &str) -> &str {
    if right.len() > left.len() {
        right
    } else {
        left
    }
}
