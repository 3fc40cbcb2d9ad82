// The Graph item path of the workbook open in Excel. Office.js knows the
// document's URL (OneDrive or SharePoint); Graph's /shares endpoint turns
// that URL into the drive item.

/** Graph's sharing id of a URL: "u!" + unpadded base64url of the UTF-8 URL. */
export function sharingId(url) {
  const bytes = new TextEncoder().encode(url);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return "u!" + btoa(binary).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * `/drives/{driveId}/items/{itemId}` of the document at `documentUrl`
 * (Office.context.document.url), via GET {baseUrl}/shares/{id}/driveItem.
 */
export async function resolveWorkbook(documentUrl, getToken, { baseUrl, fetch = globalThis.fetch }) {
  if (!/^https:\/\//i.test(documentUrl ?? "")) {
    throw new Error("The workbook is not stored in OneDrive or SharePoint: save it there first.");
  }
  const response = await fetch(`${baseUrl}/shares/${sharingId(documentUrl)}/driveItem?$select=id,parentReference`, {
    headers: { authorization: `Bearer ${await getToken()}` },
  });
  if (!response.ok) throw new Error(`Graph could not find the workbook (${response.status}).`);
  const item = await response.json();
  return `/drives/${item.parentReference.driveId}/items/${item.id}`;
}
