/** The version a person reads in an image reference: its tag, else its digest, else the whole reference. */
export function imageVersion(image: string): string {
  const at = image.lastIndexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : image;
}

/** The same image reference at another tag: `registry/app:1.4.2` at `1.5.0` is `registry/app:1.5.0`. */
export function withVersion(image: string, version: string): string {
  const at = image.lastIndexOf('@');
  const bare = at >= 0 ? image.slice(0, at) : image;
  const colon = bare.lastIndexOf(':');
  const repository = colon > bare.lastIndexOf('/') ? bare.slice(0, colon) : bare;
  return `${repository}:${version}`;
}
