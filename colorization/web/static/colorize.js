// Colorization in the browser: the package's full-resolution path (colorization.colorize.colorize_batch,
// mode "full") in JavaScript, with the exported network run by ONNX Runtime Web (WebAssembly).
//
//   photo -> 256x256 sRGB, Pillow's bicubic         networkView      (colorization.io.preprocess.resize)
//         -> L of the 256x256 view, scaled L/50 - 1  networkInput     (colorization.colorize.network_input,
//                                                                      colorization.fast.lab_lut.lightness)
//         -> the network (model.onnx)                runNetwork       (colorization.export.runtime.OnnxModel)
//         -> ab at a vividness                       decodeAb         (colorization.decoding.decode,
//                                                                      colorization.vividness, annealed mean)
//         -> ab up to the photo's size, bilinear,    render           (colorization.fast.lab_lut.render)
//            joined with the photo's own L; colours
//            outside sRGB lose chroma at fixed L and hue
//
// Every step computes in float32 where numpy does (Math.fround after each operation numpy does in
// float32), with the same constants and lookup tables, so that the page's output matches Python's to
// within a code value or two (docs/web.md gives the measured difference). What differs: the browser, not
// Pillow, decodes the photo (JPEG decoders agree to a code value or so; ICC profiles are converted by the
// browser's colour management instead of LittleCMS; 16-bit images arrive as 8-bit; the colour under
// semi-transparent pixels is what the browser's premultiplied canvas keeps).
//
// Threads: everything runs on the page's main thread, and ONNX Runtime on one WebAssembly thread with SIMD.
// WebAssembly threads need SharedArrayBuffer, which browsers grant only to cross-origin isolated pages
// (COOP/COEP response headers), and a plain static host sends none. A worker would keep the page responsive, at
// the price of a second copy of each photo's pixels; the page instead shows its status before the work starts
// and is busy while a photo is colorized: about 1 s for a sample, 2 s for a 6-megapixel photo (docs/web.md).
//
// The pure steps are exported (no DOM), so that a test can run them on arrays of its own.

const f = Math.fround; // float32 rounding: numpy's float32 arithmetic, one operation at a time

// --- constants of colorization.lab (scikit-image's sRGB, D65, 2 degrees) --------------------------------
const XYZ_FROM_RGB = [
  [0.412453, 0.35758, 0.180423],
  [0.212671, 0.71516, 0.072169],
  [0.019334, 0.119193, 0.950227],
];
const WHITE_D65 = [0.95047, 1.0, 1.08883];
const LAB_EPSILON = 0.008856;
const LAB_KAPPA = 7.787;
const L_CENTER = 50; // lab.scale_l: L / 50 - 1
const AB_SCALE = 128; // lab.unscale_ab: the regression head gives ab / 128
export const SIZE = 256; // colorization.io.preprocess.PAPER_SIZE: what the network sees

// --- lookup tables of colorization.fast.lab_lut ----------------------------------------------------------
const Y_STEPS = 65535; // Y quantized to 1/65535 for the L tables
const LINEAR_STEPS = 65535; // linear light quantized to 1/65535 for the sRGB encoding table
const GAMUT_TOLERANCE_LOW = f(-1e-4); // lab_lut._GAMUT_TOLERANCE, as float32 (numpy's weak scalars)
const GAMUT_TOLERANCE_HIGH = f(1.0 + 1e-4);
const GAMUT_STEPS = 6; // bisection steps of the chroma factor
const F_DARK = f(0.2068966); // CIE f(t): cube below 6/29 ... linear
const SIXTEEN_116 = f(16 / 116);
const KAPPA32 = f(LAB_KAPPA);
const INV_500 = f(1 / 500);
const INV_200 = f(1 / 200);

/** numpy's rint: round half to even. */
function rint(value) {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/** sRGB code / 255 -> linear light, float32 (lab_lut._LINEAR_LUT for uint8). */
function linearTable() {
  const table = new Float32Array(256);
  for (let code = 0; code < 256; code++) {
    const c = code / 255;
    table[code] = c > 0.04045 ? ((c + 0.055) / 1.055) ** 2.4 : c / 12.92;
  }
  return table;
}

/** Y index -> L (lab_lut._L_FROM_Y_LUT) and -> f(Y) = (L + 16) / 116 (lab_lut._FY_FROM_Y_LUT). */
function lightnessTables() {
  const lightness = new Float32Array(Y_STEPS + 1);
  const fy = new Float32Array(Y_STEPS + 1);
  for (let i = 0; i <= Y_STEPS; i++) {
    const y = i / Y_STEPS;
    const t = y > LAB_EPSILON ? Math.cbrt(y) : LAB_KAPPA * y + 16 / 116;
    lightness[i] = 116 * t - 16;
    fy[i] = f(f(lightness[i] + 16) / 116);
  }
  return { lightness, fy };
}

/** floor(linear * 65535) -> 8-bit sRGB code of the bin's centre (lab_lut._SRGB8_FROM_LINEAR_LUT). */
function srgb8Table() {
  const table = new Uint8Array(LINEAR_STEPS + 1);
  for (let i = 0; i <= LINEAR_STEPS; i++) {
    const x = Math.min((i + 0.5) / LINEAR_STEPS, 1);
    const encoded = x > 0.0031308 ? 1.055 * x ** (1 / 2.4) - 0.055 : 12.92 * x;
    table[i] = Math.min(255, Math.max(0, rint(255 * encoded)));
  }
  return table;
}

/** Relative XYZ (X/Xn, Y, Z/Zn) -> linear sRGB, rows normalised to sum 1 (lab_lut._RGB_FROM_RELATIVE_XYZ). */
function rgbFromRelativeXyz() {
  const m = XYZ_FROM_RGB;
  const det =
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const cofactor = (r, c) => {
    const rows = [0, 1, 2].filter((i) => i !== r);
    const cols = [0, 1, 2].filter((j) => j !== c);
    const minor = m[rows[0]][cols[0]] * m[rows[1]][cols[1]] - m[rows[0]][cols[1]] * m[rows[1]][cols[0]];
    return (r + c) % 2 === 0 ? minor : -minor;
  };
  const out = new Float32Array(9);
  for (let r = 0; r < 3; r++) {
    const row = [0, 1, 2].map((c) => (cofactor(c, r) / det) * WHITE_D65[c]); // inverse, times the white
    const sum = row[0] + row[1] + row[2];
    row.forEach((value, c) => (out[3 * r + c] = value / sum));
  }
  return out;
}

const LINEAR = linearTable();
const { lightness: L_FROM_Y, fy: FY_FROM_Y } = lightnessTables();
const SRGB8 = srgb8Table();
const RGB_FROM_XYZ_REL = rgbFromRelativeXyz();
const Y_WEIGHTS = XYZ_FROM_RGB[1].map(f); // the Y row; white Y = 1

/** Relative luminance Y of an sRGB pixel, float32, clipped to [0, 1] (lab_lut._luminance_rows). */
function luminance(r, g, b) {
  let y = f(LINEAR[r] * Y_WEIGHTS[0]);
  y = f(y + f(LINEAR[g] * Y_WEIGHTS[1]));
  y = f(y + f(LINEAR[b] * Y_WEIGHTS[2]));
  return Math.min(Math.max(y, 0), 1);
}

/** Y in [0, 1] -> index into the Y tables (lab_lut._y_index). */
function yIndex(y) {
  return rint(f(y * Y_STEPS));
}

// --- 1. the network's view: Pillow's bicubic resize (colorization.io.preprocess.resize) -------------------
// Pillow (src/libImaging/Resample.c, Reduce.c) in 8-bit fixed point, so the view is Pillow's to the code value:
// a shrink by more than 2x first averages whole blocks of pixels (Image.reduce, reducing_gap = 2), then a
// separable bicubic filter (a = -0.5) whose support widens with the shrink (antialiasing).
const PRECISION_BITS = 22; // 32 - 8 - 2

function bicubic(x) {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc: per output pixel, its first input pixel, count, weights. */
function resampleCoefficients(inSize, in0, in1, outSize) {
  const scale = f(in1 - in0) / outSize; // Pillow's box is float32
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const raw = new Float64Array(ksize);
  for (let out = 0; out < outSize; out++) {
    const center = in0 + (out + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const count = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < count; x++) {
      raw[x] = bicubic((x + xmin - center + 0.5) * (1 / filterScale));
      total += raw[x];
    }
    for (let x = 0; x < count; x++) {
      const k = total !== 0 ? raw[x] / total : raw[x];
      weights[out * ksize + x] = Math.trunc(k < 0 ? -0.5 + k * (1 << PRECISION_BITS) : 0.5 + k * (1 << PRECISION_BITS));
    }
    bounds[2 * out] = xmin;
    bounds[2 * out + 1] = count;
  }
  return { ksize, bounds, weights };
}

function clip8(sum) {
  return Math.min(255, Math.max(0, sum >> PRECISION_BITS));
}

/** Image.reduce: the mean of each fx x fy block, rounded as Pillow does (partial blocks at the edges). */
function reduceBlocks(image, fx, fy) {
  const { data, width, height, stride } = image;
  const outW = Math.ceil(width / fx);
  const outH = Math.ceil(height / fy);
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const y0 = y * fy;
    const y1 = Math.min(y0 + fy, height);
    for (let x = 0; x < outW; x++) {
      const x0 = x * fx;
      const x1 = Math.min(x0 + fx, width);
      const n = (x1 - x0) * (y1 - y0);
      const multiplier = Math.trunc(f(4294967296 / f(256 * n))); // Reduce.c's division_UINT32, in float32
      for (let c = 0; c < 3; c++) {
        let sum = n >> 1;
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) sum += data[(yy * width + xx) * stride + c];
        }
        out[(y * outW + x) * 3 + c] = Math.floor((sum * multiplier) / 16777216);
      }
    }
  }
  return { data: out, width: outW, height: outH, stride: 3 };
}

/** Pillow's horizontal pass: rows ``first`` .. ``first + rows`` of ``image`` resampled to ``outW`` columns (RGB). */
function horizontalPass(image, coefficients, outW, first, rows) {
  const { data, width, stride } = image;
  const { bounds, weights, ksize } = coefficients;
  const out = new Uint8Array(outW * rows * 3);
  for (let y = 0; y < rows; y++) {
    const row = (y + first) * width;
    for (let x = 0; x < outW; x++) {
      const [xmin, count, k] = [bounds[2 * x], bounds[2 * x + 1], x * ksize];
      for (let c = 0; c < 3; c++) {
        let sum = 1 << (PRECISION_BITS - 1);
        for (let i = 0; i < count; i++) sum += data[(row + xmin + i) * stride + c] * weights[k + i];
        out[(y * outW + x) * 3 + c] = clip8(sum);
      }
    }
  }
  return { data: out, width: outW, height: rows, stride: 3 };
}

/** Pillow's vertical pass: ``image`` resampled to ``outH`` rows, its rows counted from ``first`` (RGB). */
function verticalPass(image, coefficients, outH, first) {
  const { data, width, stride } = image;
  const { bounds, weights, ksize } = coefficients;
  const out = new Uint8Array(width * outH * 3);
  for (let y = 0; y < outH; y++) {
    const [ymin, count, k] = [bounds[2 * y] - first, bounds[2 * y + 1], y * ksize];
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 1 << (PRECISION_BITS - 1);
        for (let i = 0; i < count; i++) sum += data[((ymin + i) * width + x) * stride + c] * weights[k + i];
        out[(y * width + x) * 3 + c] = clip8(sum);
      }
    }
  }
  return { data: out, width, height: outH, stride: 3 };
}

/**
 * Pillow's two-pass resample (ImagingResampleInner) of ``box`` of ``image`` to outW x outH, 8-bit between the passes.
 * The order is Pillow 13's: rows first (only the rows the vertical pass reads), unless the height shrinks by more
 * than twice as many pixels as the width, when the vertical pass goes first (Pillow 12 and older: always rows first,
 * which differs by a code value here and there).
 */
function resampleBicubic(image, box, outW, outH) {
  const vertical = resampleCoefficients(image.height, f(box[1]), f(box[3]), outH);
  const horizontal = resampleCoefficients(image.width, f(box[0]), f(box[2]), outW);
  const shrinkH = image.height - outH;
  if (shrinkH > 0 && shrinkH > (image.width - outW) * 2) {
    const rows = verticalPass(image, vertical, outH, 0);
    return horizontalPass(rows, horizontal, outW, 0, outH).data;
  }
  const first = vertical.bounds[0];
  const last = vertical.bounds[2 * outH - 2] + vertical.bounds[2 * outH - 1];
  return verticalPass(horizontalPass(image, horizontal, outW, first, last - first), vertical, outH, first).data;
}

/**
 * The 256x256 sRGB view the network sees of a photo (colorize.network_view, mode "full"): the whole photo,
 * squeezed to 256x256 by Pillow's bicubic filter, with Pillow's block reduction first for a shrink over 2x.
 * @param {{data: Uint8ClampedArray|Uint8Array, width: number, height: number}} photo RGBA pixels
 * @returns {Uint8Array} 256 * 256 * 3 RGB
 */
export function networkView(photo) {
  let image = { data: photo.data, width: photo.width, height: photo.height, stride: 4 };
  if (image.width === SIZE && image.height === SIZE) {
    const view = new Uint8Array(SIZE * SIZE * 3);
    for (let i = 0; i < SIZE * SIZE; i++) view.set(photo.data.subarray(4 * i, 4 * i + 3), 3 * i);
    return view;
  }
  let box = [0, 0, image.width, image.height];
  if (Math.max(image.width / SIZE, image.height / SIZE) > 2) {
    const fx = Math.trunc(image.width / SIZE / 2) || 1; // Image.resize(reducing_gap=2)
    const fy = Math.trunc(image.height / SIZE / 2) || 1;
    if (fx > 1 || fy > 1) {
      box = [0, 0, image.width / fx, image.height / fy];
      image = reduceBlocks(image, fx, fy);
    }
  }
  return resampleBicubic(image, box, SIZE, SIZE);
}

// --- 2. the network's input: scaled L (colorize.network_input) -----------------------------------------
/** (L - 50) / 50 of each pixel of the view, float32, for the input ``L`` of shape (1, 256, 256, 1). */
export function networkInput(view) {
  const input = new Float32Array(SIZE * SIZE);
  for (let i = 0; i < input.length; i++) {
    const lightness = L_FROM_Y[yIndex(luminance(view[3 * i], view[3 * i + 1], view[3 * i + 2]))];
    input[i] = f(f(lightness - L_CENTER) / L_CENTER);
  }
  return input;
}

// --- 3. the network (ONNX Runtime Web) ---------------------------------------------------------------------
/** The network's raw output for one input: ab / 128 (256*256*2) or the bin probabilities (256*256*Q). */
export async function runNetwork(ort, session, input) {
  const tensor = new ort.Tensor("float32", input, [1, SIZE, SIZE, 1]);
  const outputs = await session.run({ [session.inputNames[0]]: tensor });
  const output = outputs[session.outputNames[0]];
  const data = output.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new Error("the network predicted non-finite values; nothing is shown");
  }
  return data;
}

// --- 4. ab at a vividness (decoding.decode, colorization.vividness) --------------------------------------
/**
 * ab in Lab units (256*256*2, float32) at ``vividness``: for the regression head a chroma gain, ab * v; for the
 * classification head the annealed mean of the bin centres at temperature 1 / v (ablation.quantize).
 */
export function decodeAb(raw, model, vividness) {
  const ab = new Float32Array(SIZE * SIZE * 2);
  if (model.head === "regression") {
    const gain = f(vividness);
    for (let i = 0; i < ab.length; i++) ab[i] = vividness === 1 ? f(raw[i] * AB_SCALE) : f(f(raw[i] * AB_SCALE) * gain);
    return ab;
  }
  const centers = model.bin_centers;
  const bins = centers.length;
  const inverseT = f(1 / (1 / vividness)); // 1 / temperature, temperature = 1 / vividness
  const logs = new Float32Array(bins);
  for (let p = 0; p < SIZE * SIZE; p++) {
    let top = -Infinity;
    for (let q = 0; q < bins; q++) {
      logs[q] = Math.log(Math.max(raw[p * bins + q], 1e-8));
      top = Math.max(top, logs[q]);
    }
    let total = 0, a = 0, b = 0;
    for (let q = 0; q < bins; q++) {
      const weight = f(Math.exp(f(f(logs[q] - top) * inverseT)));
      total += weight;
      a += weight * centers[q][0];
      b += weight * centers[q][1];
    }
    ab[2 * p] = a / total;
    ab[2 * p + 1] = b / total;
  }
  return ab;
}

// --- 5. the colorization at the photo's size (lab_lut.render) -----------------------------------------------
/** Source positions and weights of bilinear resampling, pixel centres aligned (lab_lut._bilinear_taps). */
function bilinearTaps(sizeOut, sizeIn) {
  const low = new Int32Array(sizeOut);
  const high = new Int32Array(sizeOut);
  const weight = new Float32Array(sizeOut);
  for (let t = 0; t < sizeOut; t++) {
    const source = Math.min(Math.max((t + 0.5) * (sizeIn / sizeOut) - 0.5, 0), sizeIn - 1);
    low[t] = Math.floor(source);
    high[t] = Math.min(low[t] + 1, sizeIn - 1);
    weight[t] = source - low[t];
  }
  return { low, high, weight };
}

/** ab of every row of the 256x256 prediction, interpolated to the photo's width (the first, column pass). */
function abColumns(ab, width) {
  const taps = bilinearTaps(width, SIZE);
  const out = new Float32Array(SIZE * width * 2);
  for (let r = 0; r < SIZE; r++) {
    for (let x = 0; x < width; x++) {
      const w = taps.weight[x];
      const keep = f(1 - w);
      for (let k = 0; k < 2; k++) {
        const lo = ab[(r * SIZE + taps.low[x]) * 2 + k];
        const hi = ab[(r * SIZE + taps.high[x]) * 2 + k];
        out[(r * width + x) * 2 + k] = f(lo * keep) + f(hi * w);
      }
    }
  }
  return out;
}

/** CIE f^-1 (lab_lut._f_inverse). */
function fInverse(t) {
  return t <= F_DARK ? f(f(t - SIXTEEN_116) / KAPPA32) : f(f(t * t) * t);
}

/** Lab (L as f(Y) and Y) -> linear sRGB, unclipped, into ``out`` (lab_lut._linear_rgb). */
function linearRgb(fy, y, a, b, out) {
  const fz = Math.max(f(fy - f(b * INV_200)), 0); // negative Z is clipped, as scikit-image does
  const x = fInverse(f(fy + f(a * INV_500)));
  const z = fInverse(fz);
  const m = RGB_FROM_XYZ_REL;
  for (let c = 0; c < 3; c++) out[c] = f(f(x * m[3 * c]) + f(y * m[3 * c + 1])) + f(z * m[3 * c + 2]);
}

function outOfGamut(rgb) {
  const low = GAMUT_TOLERANCE_LOW;
  const high = GAMUT_TOLERANCE_HIGH;
  return rgb[0] < low || rgb[0] > high || rgb[1] < low || rgb[1] > high || rgb[2] < low || rgb[2] > high;
}

const channels = new Float32Array(3);
const trial = new Float32Array(3);

/** One pixel of the output: Lab -> 8-bit sRGB, chroma shrunk at fixed L and hue until it fits. */
function srgbPixel(fy, y, a, b, out, offset) {
  linearRgb(fy, y, a, b, channels);
  if (outOfGamut(channels)) {
    let low = 0;
    let high = 1;
    for (let step = 0; step < GAMUT_STEPS; step++) {
      const middle = f(f(low + high) / 2);
      linearRgb(fy, y, f(a * middle), f(b * middle), trial);
      if (outOfGamut(trial)) high = middle;
      else low = middle;
    }
    linearRgb(fy, y, f(a * low), f(b * low), channels);
  }
  for (let c = 0; c < 3; c++) {
    const scaled = Math.min(Math.max(f(channels[c] * LINEAR_STEPS), 0), LINEAR_STEPS);
    out[offset + c] = SRGB8[Math.trunc(scaled)];
  }
}

/**
 * The colorized photo: its own L joined with ``ab`` (256x256) scaled up bilinearly; alpha kept.
 * An all-zero ab gives the neutral image (colorize.render), as ``grayImage``.
 * @returns {Uint8ClampedArray} RGBA, photo.width * photo.height * 4
 */
export function render(photo, ab) {
  const { data, width, height } = photo;
  if (ab.every((value) => value === 0)) return grayImage(photo);
  const columns = abColumns(ab, width);
  const rows = bilinearTaps(height, SIZE);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const w = rows.weight[y];
    const keep = f(1 - w);
    const low = rows.low[y] * width * 2;
    const high = rows.high[y] * width * 2;
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      const a = f(f(columns[low + 2 * x] * keep) + f(columns[high + 2 * x] * w));
      const b = f(f(columns[low + 2 * x + 1] * keep) + f(columns[high + 2 * x + 1] * w));
      const lum = luminance(data[p], data[p + 1], data[p + 2]);
      srgbPixel(FY_FROM_Y[yIndex(lum)], lum, a, b, out, p);
      out[p + 3] = data[p + 3];
    }
  }
  return out;
}

/** The photo's lightness as neutral gray (a = b = 0: R = G = B = the sRGB encoding of Y); alpha kept. */
export function grayImage(photo) {
  const { data } = photo;
  const out = new Uint8ClampedArray(data.length);
  for (let p = 0; p < data.length; p += 4) {
    const scaled = Math.min(Math.max(f(luminance(data[p], data[p + 1], data[p + 2]) * LINEAR_STEPS), 0), LINEAR_STEPS);
    out[p] = out[p + 1] = out[p + 2] = SRGB8[Math.trunc(scaled)];
    out[p + 3] = data[p + 3];
  }
  return out;
}

// --- the page -----------------------------------------------------------------------------------------------
// state on <body data-state>: loading -> ready -> busy -> done | error (tests wait on it). Requests run one at a
// time, in order, and a request overtaken by a newer one is dropped: the newest photo always wins.

class PageError extends Error {} // a message for the page's one line, as it is

const page = { manifest: null, ort: null, session: null, photo: null, raw: null, timing: null, renders: 0, ticket: 0 };
page.queue = Promise.resolve(); // the requests, one after the other
const $ = (id) => document.getElementById(id);

/** One line: whitespace collapsed, at most 300 characters (as the app's messages). */
function oneLine(text) {
  const line = String(text).replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

function setState(state, message) {
  document.body.dataset.state = state;
  $("status").textContent = oneLine(message);
  $("error").hidden = state !== "error";
  if (state === "error") $("error").textContent = oneLine(message);
}

/** Let the browser paint the status line before the main thread is taken by the work. */
function nextPaint() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Whether a PNG or JPEG file ends before its image does (a browser draws such a file half gray, without a word;
 * Pillow refuses it). Walked by the files' own structure: PNG chunk by chunk up to IEND, JPEG segment by segment
 * (and through each scan's entropy-coded data) up to EOI, so that data after the image (a phone's appended video)
 * is fine. Other formats are left to the browser.
 */
export function endsEarly(bytes) {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return !pngReachesEnd(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return !jpegReachesEnd(bytes);
  return false;
}

function pngReachesEnd(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 12 <= bytes.length; at += 12 + view.getUint32(at)) {
    if (view.getUint32(at + 4) === 0x49454e44) return true; // "IEND"
  }
  return false;
}

function jpegReachesEnd(bytes) {
  const isRestart = (marker) => marker >= 0xd0 && marker <= 0xd7;
  let at = 2;
  while (at + 1 < bytes.length) {
    const marker = bytes[at + 1];
    if (bytes[at] !== 0xff || marker === 0xff) at += 1; // bytes between segments, fill bytes
    else if (marker === 0xd9) return true; // EOI
    else if (marker === 0x01 || isRestart(marker)) at += 2; // markers without a length
    else {
      if (at + 3 >= bytes.length) return false;
      at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
      if (marker !== 0xda) continue;
      // a scan (SOS): its coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart
      while (at + 1 < bytes.length && !(bytes[at] === 0xff && bytes[at + 1] !== 0 && !isRestart(bytes[at + 1]))) at++;
    }
  }
  return false;
}

/**
 * A photo's RGBA pixels, as the browser decodes and displays it (EXIF orientation applied, an ICC profile
 * converted to sRGB). Refused in one line: empty, too many bytes or pixels (checked from the header, before
 * decoding), cut short (endsEarly), not an image the browser decodes, an SVG drawing, or larger than the canvas.
 */
async function readPhoto(blob, name, limits) {
  if (blob.size === 0) throw new PageError(`${name}: empty file (0 bytes)`);
  if (blob.size > limits.max_upload_bytes) {
    throw new PageError(`${name}: ${megabytes(blob.size)}, above the ${megabytes(limits.max_upload_bytes)} the page reads`);
  }
  if (blob.type === "image/svg+xml") throw new PageError(`${name}: an SVG drawing, not a photo (give a JPEG, PNG or WebP)`);
  if (endsEarly(new Uint8Array(await blob.arrayBuffer()))) {
    throw new PageError(`${name}: truncated or corrupt image data (the file ends before its image does)`);
  }
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new PageError(`${name}: not an image this browser can decode (JPEG, PNG, WebP, GIF, BMP, AVIF)`));
      img.src = url;
    });
    const { naturalWidth: width, naturalHeight: height } = img;
    if (!width || !height) throw new PageError(`${name}: the image has no pixel size`);
    if (width * height > limits.max_pixels) {
      throw new PageError(
        `${name}: ${width}x${height} (${(width * height / 1e6).toFixed(0)} megapixels), above the page's ` +
          `${limits.max_pixels / 1e6}-megapixel limit (a browser tab's memory); the colorization command line takes more`,
      );
    }
    await img.decode().catch(() => {
      throw new PageError(`${name}: truncated or corrupt image data`);
    });
    const canvas = Object.assign(document.createElement("canvas"), { width, height });
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (!context) throw new PageError(`${name}: ${width}x${height} is larger than this browser's canvas allows`);
    context.drawImage(img, 0, 0);
    return { data: context.getImageData(0, 0, width, height).data, width, height, name };
  } finally {
    URL.revokeObjectURL(url);
  }
}

function show(canvasId, rgba, width, height) {
  const canvas = $(canvasId);
  Object.assign(canvas, { width, height });
  canvas.getContext("2d").putImageData(new ImageData(rgba, width, height), 0, 0);
}

function vividness() {
  return Number($("vividness").value);
}

/** The current photo in colour at the slider's vividness (the network's output is kept: no new run). */
function showColour() {
  const { photo, raw } = page;
  show("colour", render(photo, decodeAb(raw, page.manifest.model, vividness())), photo.width, photo.height);
  page.renders += 1;
}

/** Colorize one photo: ``readBlob()`` gives its bytes (a sample's or an upload's); the newest request wins. */
function colorize(readBlob, name) {
  const ticket = ++page.ticket;
  setState("busy", `Reading ${name}…`);
  page.queue = page.queue.then(async () => {
    if (ticket !== page.ticket) return; // overtaken by a newer photo
    try {
      const photo = await readPhoto(await readBlob(), name, page.manifest.page);
      setState("busy", `Colorizing ${name} (${photo.width}x${photo.height})…`);
      await nextPaint();
      const start = performance.now();
      const input = networkInput(networkView(photo));
      const networkStart = performance.now();
      const raw = await runNetwork(page.ort, page.session, input);
      const networkMs = performance.now() - networkStart;
      Object.assign(page, { photo, raw });
      show("gray", grayImage(photo), photo.width, photo.height);
      showColour();
      page.timing = { total_ms: performance.now() - start, network_ms: networkMs };
      if (ticket !== page.ticket) return;
      $("save").disabled = false;
      const seconds = (ms) => (ms / 1000).toFixed(2);
      setState(
        "done",
        `${name}: ${photo.width}x${photo.height} pixels, colorized in ${seconds(page.timing.total_ms)} s ` +
          `(network ${seconds(networkMs)} s) at vividness ${vividness().toFixed(2)}`,
      );
    } catch (error) {
      if (ticket === page.ticket) setState("error", error instanceof PageError ? error.message : `${name}: ${error.message || error}`);
    }
  });
}

async function fetched(url) {
  const response = await fetch(url).catch((error) => {
    throw new PageError(`${url}: cannot be loaded (${error.message})`);
  });
  if (!response.ok) throw new PageError(`${url}: HTTP ${response.status} ${response.statusText}; serve the whole folder`);
  return response;
}

const fetchBlob = async (url) => (await fetched(url)).blob();
const fetchBytes = async (url) => new Uint8Array(await (await fetched(url)).arrayBuffer());

/** Save the colorization as a PNG file (the canvas's pixels, full size). */
function save() {
  const stem = page.photo.name.replace(/\.[^.]*$/, "") || "photo";
  $("colour").toBlob((blob) => {
    const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: `${stem}-colorized.png` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }, "image/png");
}

function setUpControls(manifest) {
  const { vividness: range, head, file, bytes } = manifest.model;
  Object.assign($("vividness"), { min: range.min, max: range.max, step: range.step, value: range.default });
  $("vividness-value").textContent = Number(range.default).toFixed(2);
  $("vividness-hint").textContent = range.hint;
  for (const sample of manifest.samples) {
    $("sample").append(new Option(`${sample.label} (${sample.width}x${sample.height})`, sample.file));
  }
  $("sample").addEventListener("change", (event) => {
    const file = event.target.value;
    if (file) colorize(() => fetchBlob(file), file.split("/").pop());
  });
  $("upload").addEventListener("change", (event) => {
    const chosen = event.target.files[0];
    if (chosen) colorize(async () => chosen, chosen.name);
  });
  let pending = false;
  $("vividness").addEventListener("input", () => {
    $("vividness-value").textContent = vividness().toFixed(2);
    if (!page.raw || pending) return;
    pending = true;
    requestAnimationFrame(() => ((pending = false), showColour())); // one re-render per frame
  });
  $("save").addEventListener("click", save);
  const runtime = manifest.onnxruntime_web;
  $("about").textContent =
    `The ${head} network (${manifest.model.provenance.precision}) from ${manifest.model.provenance.source_weights}, ` +
    `${file} ${megabytes(bytes)}; ONNX Runtime Web ${runtime.version} (WebAssembly, SIMD, one thread); ` +
    `this page ${megabytes(manifest.total_bytes)} in all. Nothing leaves your computer.`;
}

async function main() {
  addEventListener("unhandledrejection", (event) => setState("error", `unexpected: ${event.reason?.message || event.reason}`));
  try {
    page.manifest = await (await fetched("manifest.json")).json();
    setUpControls(page.manifest);
    setState("loading", `Loading the network (${megabytes(page.manifest.model.bytes)}) and ONNX Runtime Web…`);
    page.ort = await import(new URL(page.manifest.onnxruntime_web.entry, import.meta.url).href);
    page.ort.env.wasm.numThreads = 1; // no SharedArrayBuffer without cross-origin isolation (see the top)
    const model = await fetchBytes(page.manifest.model.file);
    page.session = await page.ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
    $("sample").disabled = $("upload").disabled = false;
    setState("ready", "Ready: pick a sample photo or upload your own.");
  } catch (error) {
    setState("error", error instanceof PageError ? error.message : `cannot start the page: ${error.message || error}`);
  }
}

if (typeof document !== "undefined") {
  window.colorizationPage = page; // for tests: the photo, the network's output, timings
  main();
}
