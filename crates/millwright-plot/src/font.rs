//! The embedded font: compiled in once (here) and registered with plotters once per process.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::error::PlotError;

/// The family name charts ask for; plotters' ab_glyph text looks fonts up by this name.
pub const FONT_FAMILY: &str = "sans-serif";

/// DejaVu Sans (licence in `assets/DejaVuSans-LICENSE.txt`).
const FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Whether registering succeeded, decided by the first call.
static REGISTERED: OnceLock<bool> = OnceLock::new();

#[cfg(test)]
static REGISTRATIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Registers the embedded font as [`FONT_FAMILY`]; later calls do nothing and return the first
/// call's outcome. Every render function calls it, so callers need not.
pub fn register_font() -> Result<(), PlotError> {
    let ok = *REGISTERED.get_or_init(|| {
        #[cfg(test)]
        REGISTRATIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font {
            family: FONT_FAMILY,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn the_font_is_registered_once_however_often_it_is_asked_for() {
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| register_font().unwrap()))
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        register_font().unwrap();
        register_font().unwrap();
        assert_eq!(REGISTRATIONS.load(Ordering::SeqCst), 1);
    }
}
