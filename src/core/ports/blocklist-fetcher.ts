// How core fetches a blocklist's URL (drivers/http/blocklist-fetcher.ts): http or https only, a size
// cap and a time limit, redirects followed only to http(s) URLs without credentials, and an error
// message that says what failed without quoting the URL's query or a header.

export interface BlocklistFetcher {
  /** The body as text; rejects with a short, user-readable reason. */
  fetch(url: string): Promise<string>;
}
