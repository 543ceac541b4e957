// The QR code on the citizen page's canvas: drawn from a text (the pass,
// or the live code every 10 s) with the vendored encoder, at whole pixels
// per module so it stays sharp; the text kept in `data-text`.

import qrcode from '/vendor/qrcode.mjs';

/** Draw `text` as a QR code filling the canvas's box, sharp on any screen. */
export function drawQr(canvas, text) {
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Alphanumeric');
  qr.make();
  const modules = qr.getModuleCount();
  const quiet = 4;
  const box = Math.min(canvas.parentElement.clientWidth || 300, 480);
  const ratio = window.devicePixelRatio || 1;
  const scale = Math.max(1, Math.floor((box * ratio) / (modules + 2 * quiet)));
  const size = scale * (modules + 2 * quiet);
  canvas.width = size;
  canvas.height = size;
  canvas.style.width = `${size / ratio}px`;
  canvas.style.height = `${size / ratio}px`;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, size, size);
  g.fillStyle = '#000';
  for (let row = 0; row < modules; row += 1) {
    for (let col = 0; col < modules; col += 1) {
      if (qr.isDark(row, col)) {
        g.fillRect((col + quiet) * scale, (row + quiet) * scale, scale, scale);
      }
    }
  }
  canvas.dataset.text = text;
  canvas.dataset.modules = String(modules);
}

/** Clear the canvas: no code is shown. */
export function blankQr(canvas) {
  canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
  canvas.dataset.text = '';
}
