use error_handling::{parse_numbers, ParseError};

#[test]
fn happy_path() {
    assert_eq!(parse_numbers("1,2,3"), Ok(vec![1, 2, 3]));
    assert_eq!(parse_numbers(" 10 , 20 "), Ok(vec![10, 20]));
}

#[test]
fn negative_numbers() {
    assert_eq!(parse_numbers("-1, -22,3"), Ok(vec![-1, -22, 3]));
}

#[test]
fn empty() {
    assert_eq!(parse_numbers(""), Ok(vec![]));
    assert_eq!(parse_numbers("   "), Ok(vec![]));
}

#[test]
fn bad_input_does_not_panic() {
    let outcome = std::panic::catch_unwind(|| parse_numbers("1,two,3"));
    assert!(outcome.is_ok(), "parse_numbers panicked on bad input");
    assert!(outcome.unwrap().is_err());
}

#[test]
fn bad_input_reports_index_and_value() {
    assert_eq!(
        parse_numbers("4, 5, x7 ,8"),
        Err(ParseError { index: 2, value: "x7".to_string() })
    );
    assert_eq!(
        parse_numbers("1,,2"),
        Err(ParseError { index: 1, value: String::new() })
    );
}
