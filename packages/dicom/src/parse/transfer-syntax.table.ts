export interface TransferSyntax {
  uid: string;
  explicitVr: boolean;
  littleEndian: boolean;
  deflated: boolean;
  encapsulated: boolean;
}

export const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LE = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BE = '1.2.840.10008.1.2.2';
const JPIP_REFERENCED_DEFLATE = '1.2.840.10008.1.2.4.95';

/** Any UID not listed natively is, per PS3.5 Annex A, explicit VR little endian with encapsulated pixel data. */
export function transferSyntaxOf(uid: string): TransferSyntax {
  switch (uid) {
    case IMPLICIT_VR_LE:
      return { uid, explicitVr: false, littleEndian: true, deflated: false, encapsulated: false };
    case EXPLICIT_VR_LE:
      return { uid, explicitVr: true, littleEndian: true, deflated: false, encapsulated: false };
    case EXPLICIT_VR_BE:
      return { uid, explicitVr: true, littleEndian: false, deflated: false, encapsulated: false };
    case DEFLATED_EXPLICIT_VR_LE:
    case JPIP_REFERENCED_DEFLATE:
      return { uid, explicitVr: true, littleEndian: true, deflated: true, encapsulated: false };
    default:
      return { uid, explicitVr: true, littleEndian: true, deflated: false, encapsulated: true };
  }
}
