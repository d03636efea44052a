use window_sums::window_sums;

#[test]
fn windows_of_two() {
    assert_eq!(window_sums(&[1, 2, 3, 4], 2), vec![3, 5, 7]);
}

#[test]
fn window_of_one_is_the_input() {
    assert_eq!(window_sums(&[5, -1, 2], 1), vec![5, -1, 2]);
}

#[test]
fn window_as_long_as_input() {
    assert_eq!(window_sums(&[1, 2, 3], 3), vec![6]);
}

#[test]
fn window_longer_than_input() {
    assert_eq!(window_sums(&[1, 2], 3), Vec::<i64>::new());
}

#[test]
fn zero_width_window() {
    assert_eq!(window_sums(&[1, 2], 0), Vec::<i64>::new());
}
