// Phone numbers as callers type them: the rule of baojing/phone.py (normalize_phone), so the page
// refuses exactly what the server would refuse, before the alarm leaves the phone. Both sides are
// tested on tests/data/phone-cases.json.

const MOBILE = /^1[3-9]\d{9}$/;
// Only 010 and 020-029 have two-digit area codes; local numbers never start with 0.
const LANDLINE = /^0(10|2\d|[3-9]\d\d)([1-9]\d{6,7})$/;

function national(digits) {
  if (MOBILE.test(digits)) return digits;
  const m = LANDLINE.exec(digits);
  return m ? `0${m[1]}-${m[2]}` : null;
}

// "138 0013 8000" -> "13800138000", "（0421）2345678" -> "0421-2345678", "+44 (0)7911 123456" ->
// "+447911123456"; "" when nothing was typed; null when it is not a phone number.
export function normalizePhone(raw) {
  // NFKC turns full-width digits, "＋" and "（）" from Chinese input methods into ASCII.
  let text = String(raw ?? "").normalize("NFKC").trim();
  if (!text) return "";
  if (text.length > 40) return null;
  let international = text.startsWith("+");
  if (international) text = text.slice(1).replaceAll("(0)", "");
  let digits = text.replace(/[\s\-.()]/g, "");
  if (!/^[0-9]+$/.test(digits)) return null;
  if (!international && digits.startsWith("00")) [international, digits] = [true, digits.slice(2)];
  if (international) {
    if (digits.startsWith("86")) {
      // The trunk 0 is often kept by mistake ("+86 0421 ..."), and a landline needs it back anyway.
      const rest = digits.slice(2);
      return national(rest) || (rest.startsWith("0") ? null : national(`0${rest}`));
    }
    return digits.startsWith("0") || digits.length < 8 || digits.length > 15 ? null : `+${digits}`;
  }
  // "86" without + or 00 is only unambiguous in front of a mobile number.
  if (digits.length === 13 && digits.startsWith("86") && MOBILE.test(digits.slice(2))) return digits.slice(2);
  return national(digits);
}
