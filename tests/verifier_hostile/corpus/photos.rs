//! Photos sent as multipart `image`: real QR codes (the only valid ones), images without a
//! readable code, broken and bomb images, and multipart bodies broken around a good photo.

use huren_crypto::qr;

use super::{Corpus, Expect, Real};
use crate::client::{image_part, multipart, multipart_body, post, Part, BOUNDARY};
use crate::images::{binary_noise_png, encode_image, jpeg_claiming, png_claiming, qr_image};
use crate::XorShift;

/// The photos the cases share, made once.
pub(super) struct Photos {
    qr_png: Vec<u8>,
    qr_png_sm2: Vec<u8>,
    qr_jpeg: Vec<u8>,
    tampered_png: Vec<u8>,
    hello_png: Vec<u8>,
    noise_png: Vec<u8>,
    gradient_png: Vec<u8>,
    gradient_jpeg: Vec<u8>,
}

impl Photos {
    pub(super) fn new(real: &Real) -> Photos {
        let qr_png = encode_image(qr_image(&real.valid_qr[0]), image::ImageFormat::Png);
        let qr_png_sm2 = encode_image(qr_image(&real.valid_qr[2]), image::ImageFormat::Png);
        let qr_jpeg = encode_image(
            qr_image(&real.valid_qr[1]).to_rgb8().into(),
            image::ImageFormat::Jpeg,
        );
        // One character in the middle of the payload changed: still canonical base64url.
        let mut tampered = real.valid[0].clone().into_bytes();
        let mid = tampered.iter().position(|b| *b == b'.').unwrap() + 20;
        tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
        let tampered = qr::encode(std::str::from_utf8(&tampered).unwrap()).unwrap();
        let tampered_png = encode_image(qr_image(&tampered), image::ImageFormat::Png);
        let hello_png = encode_image(qr_image("hello, world"), image::ImageFormat::Png);
        let mut noise_rng = XorShift(42);
        let noise =
            image::DynamicImage::ImageLuma8(image::ImageBuffer::from_fn(400, 300, |_, _| {
                image::Luma([noise_rng.byte()])
            }));
        let noise_png = encode_image(noise, image::ImageFormat::Png);
        let gradient =
            image::DynamicImage::ImageRgb8(image::ImageBuffer::from_fn(640, 480, |x, y| {
                image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
            }));
        let gradient_png = encode_image(gradient.clone(), image::ImageFormat::Png);
        let gradient_jpeg = encode_image(gradient, image::ImageFormat::Jpeg);
        Photos {
            qr_png,
            qr_png_sm2,
            qr_jpeg,
            tampered_png,
            hello_png,
            noise_png,
            gradient_png,
            gradient_jpeg,
        }
    }
}

/// Photos: real QR codes, images without one, broken images and image bombs.
pub(super) fn photos(c: &mut Corpus, photos: &Photos, real: &Real) {
    let cat = "multipart";
    let Photos {
        qr_png,
        qr_png_sm2,
        qr_jpeg,
        tampered_png,
        hello_png,
        noise_png,
        gradient_png,
        gradient_jpeg,
    } = photos;
    let bad = |data: &[u8]| multipart(&[image_part(data)]);
    c.add(
        cat,
        "real QR code PNG (zhejiang)",
        bad(qr_png),
        Expect::Valid,
    );
    c.add(
        cat,
        "real QR code PNG (anhui, SM2)",
        bad(qr_png_sm2),
        Expect::Valid,
    );
    c.add(
        cat,
        "real QR code JPEG",
        multipart(&[Part {
            name: "image",
            filename: Some("a.jpg"),
            content_type: Some("image/jpeg"),
            data: qr_jpeg,
        }]),
        Expect::Valid,
    );
    c.add(
        cat,
        "real QR code, no filename or type",
        multipart(&[Part {
            name: "image",
            filename: None,
            content_type: None,
            data: qr_png,
        }]),
        Expect::Valid,
    );
    c.add(
        cat,
        "real QR code after other fields",
        multipart(&[
            Part {
                name: "note",
                filename: None,
                content_type: None,
                data: b"hello",
            },
            Part {
                name: "img",
                filename: Some("x.png"),
                content_type: Some("image/png"),
                data: noise_png,
            },
            image_part(qr_png),
        ]),
        Expect::Valid,
    );
    c.add(
        cat,
        "QR code of a tampered HR1 text",
        bad(tampered_png),
        Expect::Invalid(&["bad_signature"]),
    );
    c.add(
        cat,
        "QR code of \"hello, world\"",
        bad(hello_png),
        Expect::Invalid(&["malformed"]),
    );
    c.add(
        cat,
        "PNG of noise, no QR code",
        bad(noise_png),
        Expect::Problem(400, "no_qr_code"),
    );
    c.add(
        cat,
        "PNG gradient, no QR code",
        bad(gradient_png),
        Expect::Problem(400, "no_qr_code"),
    );
    c.add(
        cat,
        "JPEG gradient, no QR code",
        bad(gradient_jpeg),
        Expect::Problem(400, "no_qr_code"),
    );
    c.add(
        cat,
        "text as image",
        bad(real.valid_qr[0].as_bytes()),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "empty image",
        bad(b""),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "PNG signature then garbage",
        bad(&[b"\x89PNG\r\n\x1a\n".as_slice(), &XorShift(7).bytes(5000)].concat()),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "JPEG SOI then garbage",
        bad(&[b"\xff\xd8\xff\xe0".as_slice(), &XorShift(8).bytes(5000)].concat()),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "GIF (format not enabled)",
        bad(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "PNG bomb 100000x100000",
        bad(&png_claiming(100_000, 100_000, 8, 0)),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "PNG bomb 2^31-1 square RGBA16",
        bad(&png_claiming(0x7FFF_FFFF, 0x7FFF_FFFF, 16, 6)),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "PNG 6001x1 (side limit)",
        bad(&png_claiming(6001, 1, 8, 0)),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "PNG 6000x6000 RGBA16 (alloc limit), truncated data",
        bad(&png_claiming(6000, 6000, 16, 6)),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "PNG 0x0",
        bad(&png_claiming(0, 0, 8, 0)),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "PNG IHDR with bad CRC",
        {
            let mut png = png_claiming(100, 100, 8, 0);
            png[29] ^= 0xff;
            bad(&png)
        },
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "JPEG SOF 65500x65500",
        bad(&jpeg_claiming(65_500)),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "truncated real QR PNG",
        bad(&qr_png[..qr_png.len() / 2]),
        Expect::Problem(400, "unreadable_image"),
    );
    c.lazy(
        cat,
        "blank 6000x6000 PNG (largest allowed)",
        || {
            let blank = image::DynamicImage::ImageLuma8(image::ImageBuffer::from_pixel(
                6000,
                6000,
                image::Luma([255u8]),
            ));
            multipart(&[image_part(&encode_image(blank, image::ImageFormat::Png))])
        },
        // No QR code in it; but the decode budget is wall-clock time (3 s), so on a loaded
        // machine it may run out first. A busy slot (429) is retried by the sender.
        Expect::OneOf(&[
            Expect::Problem(400, "no_qr_code"),
            Expect::Problem(422, "image_too_complex"),
        ]),
    );
    c.lazy(
        cat,
        "noise 1000x1000 PNG",
        || multipart(&[image_part(&binary_noise_png(1000, 99))]),
        Expect::Problem(400, "no_qr_code"),
    );
}

/// Multipart bodies broken around a good photo, and real QR PNGs with flipped bits.
pub(super) fn multipart_structure(c: &mut Corpus, photos: &Photos) {
    let cat = "multipart";
    let qr_png = &photos.qr_png;
    let bad = |data: &[u8]| multipart(&[image_part(data)]);
    c.add(
        cat,
        "no image field",
        multipart(&[Part {
            name: "photo",
            filename: Some("a.png"),
            content_type: Some("image/png"),
            data: qr_png,
        }]),
        Expect::Problem(400, "missing_image"),
    );
    c.add(
        cat,
        "no fields at all",
        post(
            Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
            format!("--{BOUNDARY}--\r\n").as_bytes(),
        ),
        Expect::Problem(400, "missing_image"),
    );
    c.add(
        cat,
        "empty multipart body",
        post(
            Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
            b"",
        ),
        // No boundary at all: the multipart reader refuses it.
        Expect::Problem(400, "bad_multipart"),
    );
    c.add(
        cat,
        "unterminated multipart",
        {
            let mut body = multipart_body(&[image_part(qr_png)]);
            body.truncate(body.len() - BOUNDARY.len() - 8);
            post(
                Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
                &body,
            )
        },
        // The closing boundary is missing.
        Expect::Problem(400, "bad_multipart"),
    );
    c.add(
        cat,
        "wrong boundary",
        post(
            Some("multipart/form-data; boundary=other"),
            &multipart_body(&[image_part(qr_png)]),
        ),
        // The body never contains the declared boundary.
        Expect::Problem(400, "bad_multipart"),
    );
    c.add(
        cat,
        "part without headers",
        post(
            Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
            format!("--{BOUNDARY}\r\n\r\nxyz\r\n--{BOUNDARY}--\r\n").as_bytes(),
        ),
        // A part needs a Content-Disposition naming it.
        Expect::Problem(400, "bad_multipart"),
    );
    c.add(
        cat,
        "garbage multipart",
        post(
            Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
            &XorShift(5).bytes(20_000),
        ),
        // Random bytes: no boundary line.
        Expect::Problem(400, "bad_multipart"),
    );
    c.add(
        cat,
        "10,000 empty fields",
        {
            let parts: Vec<Part<'_>> = (0..10_000)
                .map(|_| Part {
                    name: "x",
                    filename: None,
                    content_type: None,
                    data: b"",
                })
                .collect();
            multipart(&parts)
        },
        Expect::Problem(400, "missing_image"),
    );
    c.add(
        cat,
        "two image fields (first is garbage)",
        multipart(&[image_part(b"garbage"), image_part(qr_png)]),
        Expect::Problem(400, "unreadable_image"),
    );
    c.add(
        cat,
        "64 KiB field name",
        multipart(&[Part {
            name: &"n".repeat(65_536),
            filename: None,
            content_type: None,
            data: b"x",
        }]),
        // Well-formed multipart whose only field is not "image".
        Expect::Problem(400, "missing_image"),
    );
    // The PNG is IHDR, IDAT and IEND, and the decoder checks every chunk's CRC-32: a flip in
    // IHDR or IDAT (length, type, data or CRC) makes the image unreadable. A flip only in
    // IEND, read after the pixels, might not; so each case must hit IHDR or IDAT.
    let iend = qr_png.len() - 12;
    assert_eq!(&qr_png[iend + 4..iend + 8], b"IEND");
    for n in 0..20 {
        let mut png = qr_png.clone();
        let mut r = XorShift(1000 + n);
        let mut before_iend = false;
        for _ in 0..(1 + n) {
            let at = 8 + r.below(png.len() - 8);
            png[at] ^= 1 << r.below(8);
            before_iend |= at < iend;
        }
        assert!(before_iend, "case {n} flips only IEND");
        c.add(
            cat,
            format!("real QR PNG with {} flipped bits", 1 + n),
            bad(&png),
            Expect::Problem(400, "unreadable_image"),
        );
    }
}
