//! The QR code to the verify page, drawn as vector squares.
//!
//! Vector squares rather than an embedded image: they stay sharp at any zoom and any
//! printer resolution, need no image encoder (the `qrcode` crate is used without its
//! `image` feature), and weigh a few hundred bytes. Dark modules of a row are merged into
//! one rectangle per run, and the whole code is one filled path, so renderers draw no
//! hairline seams between neighbouring modules. Error correction is level M (15 %), the
//! usual choice for a printed code that may be folded or photocopied; the white quiet zone
//! of four modules the standard asks for is part of the drawn square.

use crate::PdfError;
use crate::canvas::{Canvas, Rgb};
use qrcode::{Color, EcLevel, QrCode};

/// The quiet zone on each side, in modules (ISO/IEC 18004 asks for 4).
const QUIET: usize = 4;

/// Checks that `data` fits in a QR code, before anything is laid out.
pub(crate) fn encode(data: &str) -> Result<QrCode, PdfError> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).map_err(PdfError::QrCode)
}

/// Draws `code` in a `size`-point square (quiet zone included) whose top-left corner is
/// at `(x, top)`.
pub(crate) fn draw(canvas: &mut Canvas, code: &QrCode, x: f32, top: f32, size: f32) {
    let width = code.width();
    let colors = code.to_colors();
    let module = size / (width + 2 * QUIET) as f32;
    canvas.fill_rect(x, top, size, size, Rgb(1.0, 1.0, 1.0));
    let mut rects = Vec::new();
    for (row, cells) in colors.chunks(width).enumerate() {
        let mut col = 0;
        while col < cells.len() {
            if cells[col] != Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < cells.len() && cells[col] == Color::Dark {
                col += 1;
            }
            rects.push((
                x + (start + QUIET) as f32 * module,
                top + (row + QUIET) as f32 * module,
                (col - start) as f32 * module,
                module,
            ));
        }
    }
    canvas.fill_rects(&rects, Rgb(0.0, 0.0, 0.0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verify_url_encodes() {
        let code = encode("https://consentry.example/verify?proof=prf_01JD2K3M4N5P6Q7R8S9T0V1W2X")
            .unwrap();
        assert!(code.width() >= 21);
    }

    #[test]
    fn a_url_too_long_for_any_qr_code_is_an_error() {
        assert!(matches!(
            encode(&"x".repeat(5000)),
            Err(PdfError::QrCode(_))
        ));
    }
}
