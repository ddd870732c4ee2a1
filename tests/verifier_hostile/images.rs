//! Images made by hand: PNG and JPEG headers that claim huge sizes, real QR codes, and
//! pictures crafted to be expensive for the QR detector.

use std::io::Cursor;

use crate::XorShift;

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut tagged = kind.to_vec();
    tagged.extend_from_slice(data);
    out.extend_from_slice(&tagged);
    out.extend_from_slice(&crc32(&tagged).to_be_bytes());
}

/// A structurally valid PNG header (correct CRCs) claiming `width`×`height`, followed by a
/// small IDAT of zeros and IEND: a decoder that trusts the header would allocate the lot.
pub fn png_claiming(width: u32, height: u32, bit_depth: u8, colour: u8) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[bit_depth, colour, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // zlib: header, a raw DEFLATE of 64 KiB of zeros, adler32 of that.
    let mut idat = vec![0x78, 0x9c];
    idat.extend_from_slice(&huren_crypto::deflate::deflate(&[0u8; 65_536]));
    let adler: u32 = (65_536u32 % 65_521) << 16 | 1;
    idat.extend_from_slice(&adler.to_be_bytes());
    png_chunk(&mut out, b"IDAT", &idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A JPEG start-of-frame claiming `side`×`side` and nothing else.
pub fn jpeg_claiming(side: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08];
    out.extend_from_slice(&side.to_be_bytes());
    out.extend_from_slice(&side.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9]);
    out
}

pub fn encode_image(image: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub fn qr_image(text: &str) -> image::DynamicImage {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
    image::DynamicImage::ImageLuma8(
        code.render::<image::Luma<u8>>()
            .module_dimensions(4, 4)
            .build(),
    )
}

/// Finder patterns (the 1:1:3:1:1 squares in a QR code's corners) tiled over an image with
/// `module`-pixel modules: every tile is a capstone candidate.
pub fn tiled_finder_patterns(side: u32, module: u32) -> Vec<u8> {
    let image = image::ImageBuffer::from_fn(side, side, |x, y| {
        let (cx, cy) = ((x / module) % 9, (y / module) % 9);
        let dark = cx < 7 && cy < 7 && {
            let d = cx.abs_diff(3).max(cy.abs_diff(3));
            d == 3 || d <= 1
        };
        image::Luma([if dark { 0u8 } else { 255 }])
    });
    encode_image(
        image::DynamicImage::ImageLuma8(image),
        image::ImageFormat::Png,
    )
}

/// `side`×`side` pixels of black-and-white noise, as a PNG.
pub fn binary_noise_png(side: u32, seed: u64) -> Vec<u8> {
    let mut r = XorShift(seed);
    let noise = image::ImageBuffer::from_fn(side, side, |_, _| {
        image::Luma([if r.next() & 1 == 0 { 0u8 } else { 255 }])
    });
    encode_image(
        image::DynamicImage::ImageLuma8(noise),
        image::ImageFormat::Png,
    )
}
