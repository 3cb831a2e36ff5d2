/**
 * Checksums that tell real payment-card numbers and IBANs from other digit runs, so that the
 * detectors mask what is sensitive without eating order numbers and timestamps.
 */

/** True when the digits of `s` (separators ignored) pass the Luhn check (ISO/IEC 7812). */
export function luhnValid(s: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    digits++;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits >= 12 && sum % 10 === 0;
}

/** True when `s` (spaces ignored) is an IBAN whose ISO 13616 mod-97 check holds. */
export function ibanValid(s: string): boolean {
  const iban = s.replace(/ /g, '').toUpperCase();
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    // Letters count as two digits (A=10 … Z=35); fold digit by digit to stay in integer range.
    if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else return false;
  }
  return rem === 1;
}
