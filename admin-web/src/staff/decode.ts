// Reading a QR code from a camera frame or a picture, by one path for both: the browser's own
// `BarcodeDetector` where it has one (Android, macOS, ChromeOS), else the `jsqr` decoder, loaded
// with `import()` only on such browsers so the others never download it.

type JsQr = typeof import("jsqr").default;

/** The part of the Shape Detection API this page uses (not in TypeScript's DOM types). */
interface BarcodeDetectorLike {
  detect(source: ImageBitmapSource): Promise<{ rawValue: string; format: string }[]>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

/** Longest side a frame is scaled down to before jsqr reads it: a code's 41 modules stay ≥ 10 px. */
const DECODE_SIDE_PX_MAX = 800;

let detector: Promise<BarcodeDetectorLike | null> | null = null;
let jsqr: Promise<JsQr> | null = null;

function nativeDetector(): Promise<BarcodeDetectorLike | null> {
  detector ??= (async () => {
    const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
    if (!Detector) return null;
    try {
      const formats = await Detector.getSupportedFormats();
      return formats.includes("qr_code") ? new Detector({ formats: ["qr_code"] }) : null;
    } catch {
      return null;
    }
  })();
  return detector;
}

function jsqrDecoder(): Promise<JsQr> {
  jsqr ??= import("jsqr").then((module) => module.default);
  // A failed download (the network went) is tried again at the next frame.
  jsqr.catch(() => {
    jsqr = null;
  });
  return jsqr;
}

/** Which decoder this browser uses. */
export async function decoderName(): Promise<"native" | "jsqr"> {
  return (await nativeDetector()) ? "native" : "jsqr";
}

/** Loads the decoder now, while the network is up, so scanning works after it goes. */
export async function preloadDecoder(): Promise<void> {
  if (!(await nativeDetector())) await jsqrDecoder();
}

let canvas: HTMLCanvasElement | null = null;

function pixels(source: CanvasImageSource, width: number, height: number): ImageData | null {
  const scale = Math.min(1, DECODE_SIDE_PX_MAX / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  canvas ??= document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) return null;
  context.drawImage(source, 0, 0, w, h);
  return context.getImageData(0, 0, w, h);
}

/**
 * The text of the first QR code in `source` (`width`×`height` pixels), or `null` when there is
 * none. `thorough` also tries the image inverted (a picture, not a live frame).
 */
export async function decodeQr(
  source: CanvasImageSource & ImageBitmapSource,
  width: number,
  height: number,
  thorough = false,
): Promise<string | null> {
  if (width === 0 || height === 0) return null;
  const native = await nativeDetector();
  if (native) {
    const found = await native.detect(source);
    return found.find((code) => code.format === "qr_code")?.rawValue ?? null;
  }
  const decode = await jsqrDecoder();
  const image = pixels(source, width, height);
  if (!image) return null;
  const found = decode(image.data, image.width, image.height, { inversionAttempts: thorough ? "attemptBoth" : "dontInvert" });
  return found?.data ?? null;
}

/** Reads the QR code in a picture (the file input), by the same path as camera frames. */
export async function decodeFile(file: Blob): Promise<string | null> {
  const bitmap = await createImageBitmap(file);
  try {
    return await decodeQr(bitmap, bitmap.width, bitmap.height, true);
  } finally {
    bitmap.close();
  }
}
