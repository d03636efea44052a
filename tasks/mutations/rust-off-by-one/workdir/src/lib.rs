/// Sums of every run of `k` consecutive values, left to right.
pub fn window_sums(values: &[i64], k: usize) -> Vec<i64> {
    if k == 0 || k > values.len() {
        return Vec::new();
    }
    (0..values.len() - k)
        .map(|start| values[start..start + k].iter().sum())
        .collect()
}
