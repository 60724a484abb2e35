//! Scalars with the spec's wire formats.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{SecondsFormat, Utc};

/// An instant, written as RFC 3339 in UTC with milliseconds: `2021-05-12T08:10:53.480Z`.
/// Any RFC 3339 offset is accepted on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// An instant, as RFC 3339 in UTC with milliseconds: `2021-05-12T08:10:53.480Z`. Input may
/// use any RFC 3339 offset.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| DateTime(t.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!(
                        "`{s}` is not an RFC 3339 time like 2021-05-12T08:10:53.480Z"
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(rfc3339_millis(&self.0))
    }
}

/// `t` as `to_rfc3339_opts(SecondsFormat::Millis, true)` writes it, digit by digit. chrono's
/// writer goes through `fmt` for each part: some 700 instructions a time, 2.8% of the inbox's
/// instructions (callgrind), which shows three times per ticket. A year outside 0-9999 or a
/// leap second is left to chrono.
fn rfc3339_millis(t: &chrono::DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let n = t.naive_utc();
    let millis = n.nanosecond() / 1_000_000;
    let Ok(year) = u32::try_from(n.year()) else {
        return t.to_rfc3339_opts(SecondsFormat::Millis, true);
    };
    if year > 9999 || millis > 999 {
        return t.to_rfc3339_opts(SecondsFormat::Millis, true);
    }
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let parts = [
        (0, 4, year),
        (5, 2, n.month()),
        (8, 2, n.day()),
        (11, 2, n.hour()),
        (14, 2, n.minute()),
        (17, 2, n.second()),
        (20, 3, millis),
    ];
    for (at, digits, mut value) in parts {
        for slot in out[at..at + digits].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    // ASCII digits and separators: never lossy. Collecting the chars instead pushed them
    // one by one, which cost more than all the rest.
    String::from_utf8_lossy(&out).into_owned()
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(t: chrono::DateTime<Utc>) -> Self {
        DateTime(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    proptest::proptest! {
        #[test]
        fn times_are_written_as_chrono_writes_them(
            seconds in -62_167_219_200i64..253_402_300_800,
            nanos in 0u32..1_000_000_000,
        ) {
            let t = Utc.timestamp_opt(seconds, nanos).unwrap();
            proptest::prop_assert_eq!(
                rfc3339_millis(&t),
                t.to_rfc3339_opts(SecondsFormat::Millis, true)
            );
        }
    }

    #[test]
    fn times_beyond_four_digit_years_and_leap_seconds_are_written_as_chrono_writes_them() {
        let far = Utc.with_ymd_and_hms(12345, 1, 2, 3, 4, 5).unwrap();
        let before = Utc.with_ymd_and_hms(-1, 1, 2, 3, 4, 5).unwrap();
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1_500))
            .unwrap()
            .and_utc();
        for t in [far, before, leap] {
            assert_eq!(
                rfc3339_millis(&t),
                t.to_rfc3339_opts(SecondsFormat::Millis, true)
            );
        }
        assert_eq!(rfc3339_millis(&leap), "2016-12-31T23:59:60.500Z");
    }
}
