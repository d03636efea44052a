/// Returns the longer of two string slices; on a tie, the left one.
pub fn longest<'a>(left: &'a str, right: &'a str) -> &'a str {
    if right.len() > left.len() {
        right
    } else {
        left
    }
}
