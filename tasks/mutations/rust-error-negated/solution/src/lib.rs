/// Why `retry` gave up.
#[derive(Debug, PartialEq, Eq)]
pub enum RetryError<E> {
    NoAttempts,
    Exhausted { attempts: u32, last: E },
}

/// Calls `op(attempt)` until it succeeds, at most `max_attempts` times.
pub fn retry<T, E, F>(max_attempts: u32, mut op: F) -> Result<T, RetryError<E>>
where
    F: FnMut(u32) -> Result<T, E>,
{
    if max_attempts == 0 {
        return Err(RetryError::NoAttempts);
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = op(attempt);
        if !result.is_err() || attempt >= max_attempts {
            return result.map_err(|last| RetryError::Exhausted { attempts: attempt, last });
        }
    }
}
