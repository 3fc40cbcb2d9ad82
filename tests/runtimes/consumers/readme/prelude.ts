// What README.md's ```ts blocks use without declaring: readme.test.mjs
// imports each name a block uses (and does not declare) from here.
import { WorkbookSession } from "graph-workbook-session";

/** "Your function that returns a Microsoft Graph access token." */
export async function getToken(): Promise<string> {
  return "readme-token";
}

/** "The item path `workbook`". */
export const workbook = "/me/drive/items/01README";

/** "`session`, an open WorkbookSession" on `workbook`, for the blocks that work inside one (session.fetch, errors). */
export const session = await WorkbookSession.create({ workbook, accessToken: getToken });
