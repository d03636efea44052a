/// The first item of the input that is not an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub index: usize,
    pub value: String,
}

/// Parses a comma-separated list of integers such as `"1, -2,3"`.
/// An empty or blank input gives an empty list.
pub fn parse_numbers(input: &str) -> Result<Vec<i64>, ParseError> {
    if input.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut numbers = Vec::new();
    for (index, item) in input.split(',').enumerate() {
        let value = item.trim();
        match value.parse::<i64>() {
            Ok(n) => numbers.push(n),
            Err(_) => {
                return Err(ParseError {
                    index,
                    value: value.to_string(),
                })
            }
        }
    }
    Ok(numbers)
}
