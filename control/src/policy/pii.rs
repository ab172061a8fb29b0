//! PII filter: redacts e-mail addresses, phone numbers, card numbers and
//! US social security numbers from free text (aliases) before it reaches
//! events and logs. A deliberately simple scanner with no regex engine: it
//! errs towards redacting (any run of 7+ digits is treated as a number).

/// Minimum digits in a run for it to be treated as a phone/card number.
const NUMBER_DIGITS_MIN: usize = 7;

/// Returns `text` with personal data replaced by `[email]`, `[ssn]`,
/// `[card]` or `[phone]`.
#[must_use]
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&redact_email(word));
    }
    redact_numbers(&out)
}

fn is_email(word: &str) -> bool {
    match word.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        }
        None => false,
    }
}

fn redact_email(word: &str) -> String {
    if !is_email(word) {
        return word.to_owned();
    }
    // Keep a URI scheme such as "mailto:" visible.
    match word.split_once(':') {
        Some((scheme, rest)) if is_email(rest) => format!("{scheme}:[email]"),
        _ => "[email]".into(),
    }
}

/// Replaces runs of digits (with spaces and number punctuation inside them).
fn redact_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit()
            || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || "+-.()/ ".contains(chars[i])) {
                i += 1;
            }
            // Give back trailing separators: they belong to the text.
            while i > start && !chars[i - 1].is_ascii_digit() {
                i -= 1;
            }
            let run: String = chars[start..i].iter().collect();
            let digits = run.chars().filter(char::is_ascii_digit).count();
            if is_ssn(&run) {
                out.push_str("[ssn]");
            } else if (13..=19).contains(&digits) && !run.starts_with('+') {
                out.push_str("[card]");
            } else if digits >= NUMBER_DIGITS_MIN {
                out.push_str("[phone]");
            } else {
                out.push_str(&run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn is_ssn(run: &str) -> bool {
    let parts: Vec<&str> = run.split('-').collect();
    parts.len() == 3
        && [3, 2, 4]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_each_kind_and_keeps_the_rest() {
        assert_eq!(redact("alice@example.org"), "[email]");
        assert_eq!(redact("mailto:bob@example.com"), "mailto:[email]");
        assert_eq!(redact("call +44 20 7946 0958 now"), "call [phone] now");
        assert_eq!(redact("tel:+442079460958"), "tel:[phone]");
        assert_eq!(redact("555-123-4567"), "[phone]");
        assert_eq!(redact("4111-1111-1111-1111"), "[card]");
        assert_eq!(redact("078-05-1120"), "[ssn]");
        assert_eq!(redact("if://guardian/technical"), "if://guardian/technical");
        assert_eq!(redact("room 42"), "room 42");
    }
}
