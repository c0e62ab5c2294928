/**
 * PEM material for gRPC TLS, given either inline or as a file path, checked when it is loaded so a
 * wrong file fails at start with a message that names the setting and the file, not at the first
 * handshake with an OpenSSL code.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import fs from "node:fs";

/** readPem returns the PEM bytes of `value`: inline PEM text, or the path of a PEM file. `what` names the setting in errors. */
export function readPem(value: string, what: string): Buffer {
  if (value.includes("-----BEGIN")) return Buffer.from(value, "utf8");
  let text: Buffer;
  try {
    text = fs.readFileSync(value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${what}: cannot read ${value}${code ? ` (${code})` : ""}`);
  }
  if (!text.includes("-----BEGIN")) throw new Error(`${what}: ${value} is not a PEM file (no -----BEGIN line)`);
  return text;
}

/** checkCertificate throws unless `pem` holds a parsable X.509 certificate. */
export function checkCertificate(pem: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new Error(`${what} does not hold a valid PEM certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** checkKeyPair throws unless `keyPem` is a private key and matches the (first) certificate of `certPem`. */
export function checkKeyPair(certPem: Buffer, keyPem: Buffer, certWhat: string, keyWhat: string): void {
  const cert = checkCertificate(certPem, certWhat);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new Error(`${keyWhat} does not hold a valid unencrypted PEM private key: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!cert.checkPrivateKey(key)) throw new Error(`${keyWhat} is not the private key of the certificate in ${certWhat}`);
}
