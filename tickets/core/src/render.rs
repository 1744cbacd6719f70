//! A code as a QR image: SVG for the web client, PNG for printed and e-mailed tickets. Error
//! correction M (15 %), the quiet zone of 4 modules the standard asks for, and the whole code in
//! alphanumeric mode (a version 4 symbol, 33 modules a side).

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

use crate::limits::MODULE_PX_MAX;

/// Modules of white around the symbol.
const QUIET_ZONE: usize = 4;

/// Why a code could not be drawn.
#[derive(Debug, PartialEq, Eq)]
pub enum RenderError {
    /// The text does not fit a QR code.
    TooLong,
    /// A module size of 0 or over [`MODULE_PX_MAX`].
    ModuleSize,
    /// The PNG encoder failed.
    Png(String),
}

fn symbol(text: &str) -> Result<QrCode, RenderError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|_| RenderError::TooLong)
}

/// An SVG document, `module_px` user units per module.
pub fn svg(text: &str, module_px: u32) -> Result<String, RenderError> {
    check_module(module_px)?;
    Ok(symbol(text)?
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .build())
}

fn check_module(module_px: u32) -> Result<(), RenderError> {
    if (1..=MODULE_PX_MAX).contains(&module_px) {
        Ok(())
    } else {
        Err(RenderError::ModuleSize)
    }
}

/// An 8-bit greyscale PNG, `module_px` pixels per module.
pub fn png(text: &str, module_px: u32) -> Result<Vec<u8>, RenderError> {
    check_module(module_px)?;
    let symbol = symbol(text)?;
    let modules = symbol.width();
    let dark = symbol.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * module_px as usize;
    let scale = module_px as usize;
    let mut pixels = vec![0xff_u8; side * side];
    for (index, color) in dark.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x0, y0) = (
            (index % modules + QUIET_ZONE) * scale,
            (index / modules + QUIET_ZONE) * scale,
        );
        for y in y0..y0 + scale {
            pixels[y * side + x0..y * side + x0 + scale].fill(0);
        }
    }
    encode_png(&pixels, side as u32)
}

fn encode_png(pixels: &[u8], side: u32) -> Result<Vec<u8>, RenderError> {
    let failed = |e: png::EncodingError| RenderError::Png(e.to_string());
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(bytes)
}
