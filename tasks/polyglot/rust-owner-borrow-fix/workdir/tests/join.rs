use owner_borrow_fix::join_with;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn joins_items() {
    let (text, _) = join_with("team".to_string(), &names(&["ana", "bo", "cy"]));
    assert_eq!(text, "team: ana, bo, cy");
}

#[test]
fn reports_prefix_len() {
    let (_, len) = join_with("owners".to_string(), &names(&["x"]));
    assert_eq!(len, 6);
}

#[test]
fn empty_items() {
    assert_eq!(join_with("none".to_string(), &[]), ("none: ".to_string(), 4));
}

#[test]
fn prefix_len_counts_bytes() {
    let (text, len) = join_with("équipe".to_string(), &names(&["zoë"]));
    assert_eq!(text, "équipe: zoë");
    assert_eq!(len, 7);
}
