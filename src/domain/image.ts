/** The version a person reads in an image reference: its tag, else its digest, else the whole reference. */
export function imageVersion(image: string): string {
  const at = image.lastIndexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : image;
}
