//! Resident identity numbers (GB 11643-1999): 6 digits of region, 8 of birth
//! date, 3 of sequence, and a check character computed with ISO 7064
//! MOD 11-2. The issuer checks them on arrival, then keeps only the masked
//! form (`6101**********1234`).

/// Weights of the 17 leading digits: 2^(17-i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder of the weighted sum mod 11.
const CHECK: [u8; 11] = *b"10X98765432";

/// The check character of 17 digits.
pub fn check_character(digits: &[u8; 17]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

/// Why an id number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdNumberError {
    /// Not 17 digits and a digit or X.
    Shape,
    /// Digits 7-14 are not a real date.
    BirthDate,
    /// The check character does not match (a typing error).
    CheckCharacter,
}

impl IdNumberError {
    pub fn reason(self) -> &'static str {
        match self {
            IdNumberError::Shape => "an id number is 17 digits and a check digit or X",
            IdNumberError::BirthDate => "the id number's birth date (digits 7-14) is not a date",
            IdNumberError::CheckCharacter => {
                "the id number's check digit is wrong (a typing error?)"
            }
        }
    }
}

/// Check an 18-character id number (a lower-case x is accepted).
pub fn validate(id: &str) -> Result<(), IdNumberError> {
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return Err(IdNumberError::Shape);
    }
    let last = bytes[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == b'X') {
        return Err(IdNumberError::Shape);
    }
    let number = |range: std::ops::Range<usize>| id[range].parse::<u32>().unwrap_or(0);
    if !is_date(number(6..10), number(10..12), number(12..14)) {
        return Err(IdNumberError::BirthDate);
    }
    let digits: &[u8; 17] = bytes[..17].try_into().expect("17 bytes");
    if check_character(digits) != last {
        return Err(IdNumberError::CheckCharacter);
    }
    Ok(())
}

/// Whether year-month-day is a day of the Gregorian calendar from 1900 on.
pub fn is_date(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1900 && (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_known_numbers() {
        // The standard's own example, and one ending in X.
        assert_eq!(validate("11010519491231002X"), Ok(()));
        assert_eq!(validate("11010519491231002x"), Ok(()));
        assert_eq!(
            validate("610102199001011234"),
            Err(IdNumberError::CheckCharacter)
        );
        assert_eq!(check_character(b"61010219900101123"), b'1');
        assert_eq!(validate("610102199001011231"), Ok(()));
        assert_eq!(validate("61010219900101123"), Err(IdNumberError::Shape));
        assert_eq!(
            validate("610102199002301231"),
            Err(IdNumberError::BirthDate)
        );
    }
}
