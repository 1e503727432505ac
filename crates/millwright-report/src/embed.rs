//! Images as `data:` URIs, so the page needs no other file and no network.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::{ReportError, Result};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// An SVG document as an `<img>` source.
pub fn svg_uri(svg: &str) -> String {
    format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg))
}

/// A PNG or SVG file as an `<img>` source; other formats and unreadable files are errors naming the file.
pub fn file_uri(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::ImageRead {
        path: path.to_owned(),
        source,
    })?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mime = match extension.as_str() {
        "png" if bytes.starts_with(PNG_MAGIC) => "image/png",
        "png" => {
            return Err(ReportError::ImageFormat {
                path: path.to_owned(),
                reason: "named .png but is not a PNG file".to_owned(),
            })
        }
        "svg" => {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_string();
            if !head.contains("<svg") {
                return Err(ReportError::ImageFormat {
                    path: path.to_owned(),
                    reason: "named .svg but has no <svg> element at its start".to_owned(),
                });
            }
            "image/svg+xml"
        }
        other => {
            return Err(ReportError::ImageFormat {
                path: path.to_owned(),
                reason: format!("`.{other}` is not an embeddable image (use PNG or SVG)"),
            })
        }
    };
    Ok(format!("data:{mime};base64,{}", STANDARD.encode(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_checked_before_embedding() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("a.png");
        std::fs::write(&png, [PNG_MAGIC, b"rest"].concat()).unwrap();
        assert!(file_uri(&png)
            .unwrap()
            .starts_with("data:image/png;base64,iVBORw0KGg"));
        let fake = dir.path().join("b.png");
        std::fs::write(&fake, b"GIF89a").unwrap();
        assert!(file_uri(&fake)
            .unwrap_err()
            .to_string()
            .contains("not a PNG"));
        let gif = dir.path().join("c.gif");
        std::fs::write(&gif, b"GIF89a").unwrap();
        assert!(file_uri(&gif)
            .unwrap_err()
            .to_string()
            .contains("use PNG or SVG"));
        let missing = file_uri(&dir.path().join("none.png"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("none.png"), "{missing}");
    }
}
