use retry_helper::{retry, RetryError};

#[test]
fn first_attempt_ok_returns_immediately() {
    let mut calls = 0;
    let result = retry(5, |_| {
        calls += 1;
        Ok::<_, &str>(42)
    });
    assert_eq!(result, Ok(42));
    assert_eq!(calls, 1);
}

#[test]
fn retries_on_error_until_success() {
    let mut calls = 0;
    let result = retry(5, |attempt| {
        calls += 1;
        if attempt < 3 {
            Err("not yet")
        } else {
            Ok(attempt)
        }
    });
    assert_eq!(result, Ok(3));
    assert_eq!(calls, 3);
}

#[test]
fn gives_up_after_max_attempts() {
    let mut calls = 0;
    let result: Result<(), _> = retry(4, |_| {
        calls += 1;
        Err("down")
    });
    assert_eq!(result, Err(RetryError::Exhausted { attempts: 4, last: "down" }));
    assert_eq!(calls, 4);
}

#[test]
fn zero_max_attempts_errors() {
    let mut calls = 0;
    let result: Result<(), RetryError<&str>> = retry(0, |_| {
        calls += 1;
        Ok(())
    });
    assert_eq!(result, Err(RetryError::NoAttempts));
    assert_eq!(calls, 0);
}
