// A QR code as an image for the classroom door. The encoder (qrcode) is loaded with the screen that
// shows one, never with the console's first page.
import { toDataURL } from "qrcode";

/** The text as a QR code, a PNG data URL large enough to scan from across a doorway. */
export function qrImage(text: string): Promise<string> {
  return toDataURL(text, { errorCorrectionLevel: "M", margin: 2, width: 480 });
}
