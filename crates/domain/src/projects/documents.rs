//! What a project document may be: its type, its format (checked against the file's first
//! bytes, not only its name) and its size.

/// The largest document accepted.
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;

/// What a document is for.
pub const DOCUMENT_TYPES: &[&str] = &[
    "proposal",
    "budget",
    "agreement",
    "report",
    "evaluation",
    "other",
];

/// An accepted format: its extension, its content type, and a check of the content.
type Format = (&'static str, &'static str, fn(&[u8]) -> bool);

const FORMATS: &[Format] = &[
    ("pdf", "application/pdf", |b| b.starts_with(b"%PDF-")),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        is_zip,
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        is_zip,
    ),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        is_zip,
    ),
    ("odt", "application/vnd.oasis.opendocument.text", is_zip),
    (
        "ods",
        "application/vnd.oasis.opendocument.spreadsheet",
        is_zip,
    ),
    ("png", "image/png", |b| b.starts_with(b"\x89PNG\r\n\x1a\n")),
    ("jpg", "image/jpeg", |b| b.starts_with(&[0xFF, 0xD8, 0xFF])),
    ("jpeg", "image/jpeg", |b| b.starts_with(&[0xFF, 0xD8, 0xFF])),
    ("csv", "text/csv", is_text),
    ("txt", "text/plain", is_text),
];

fn is_zip(b: &[u8]) -> bool {
    b.starts_with(b"PK\x03\x04")
}

fn is_text(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok() && !b.contains(&0)
}

/// Checks a document; returns its content type, or what is wrong with it.
pub fn check_document(name: &str, doc_type: &str, bytes: &[u8]) -> Result<&'static str, String> {
    if !DOCUMENT_TYPES.contains(&doc_type) {
        return Err(format!(
            "the document type is one of {}, found {doc_type:?}",
            DOCUMENT_TYPES.join(", ")
        ));
    }
    if name.trim().is_empty() || name.len() > 255 || name.contains(['/', '\\']) {
        return Err(format!(
            "a file name of 1 to 255 characters without folders, found {name:?}"
        ));
    }
    if bytes.is_empty() {
        return Err(format!("{name} is empty"));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "{name} is {:.1} MB; documents are at most {} MB",
            bytes.len() as f64 / 1_048_576.0,
            MAX_DOCUMENT_BYTES / 1_048_576
        ));
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let Some((_, content_type, looks_right)) = FORMATS.iter().find(|(e, _, _)| *e == extension)
    else {
        let accepted: Vec<&str> = FORMATS.iter().map(|(e, _, _)| *e).collect();
        return Err(format!(
            "{name}: accepted formats are {}",
            accepted.join(", ")
        ));
    };
    if !looks_right(bytes) {
        return Err(format!(
            "{name} is named .{extension} but its content is not {extension}"
        ));
    }
    Ok(content_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_checked_by_content_not_only_by_name() {
        assert_eq!(
            check_document("plan.pdf", "proposal", b"%PDF-1.7 ..."),
            Ok("application/pdf")
        );
        assert!(
            check_document("plan.pdf", "proposal", b"<html>")
                .unwrap_err()
                .contains("content is not pdf")
        );
        assert!(
            check_document("virus.exe", "other", b"MZ")
                .unwrap_err()
                .contains("accepted formats")
        );
        assert!(check_document("notes.txt", "other", b"a\0b").is_err());
        assert_eq!(
            check_document("budget.XLSX", "budget", b"PK\x03\x04rest"),
            Ok(DOCUMENT_TYPES_XLSX)
        );
    }

    const DOCUMENT_TYPES_XLSX: &str =
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    #[test]
    fn size_type_and_name_are_limited() {
        let big = vec![b'a'; MAX_DOCUMENT_BYTES + 1];
        assert!(
            check_document("big.txt", "report", &big)
                .unwrap_err()
                .contains("at most 20 MB")
        );
        assert!(
            check_document("a.txt", "poem", b"x")
                .unwrap_err()
                .contains("proposal")
        );
        assert!(check_document("../a.txt", "report", b"x").is_err());
        assert!(check_document("a.txt", "report", b"").is_err());
    }
}
