use lifetime_fix::longest;

#[test]
fn picks_longer() {
    assert_eq!(longest("ab", "abc"), "abc");
    assert_eq!(longest("abcd", "abc"), "abcd");
}

#[test]
fn ties_pick_left() {
    assert_eq!(longest("left", "rite"), "left");
}

#[test]
fn empty_left() {
    assert_eq!(longest("", "x"), "x");
    assert_eq!(longest("", ""), "");
}

#[test]
fn result_outlives_the_shorter_input() {
    let kept = String::from("kept around");
    let answer;
    {
        let short = String::from("tmp");
        answer = longest(kept.as_str(), short.as_str()).to_string();
    }
    assert_eq!(answer, "kept around");
}
