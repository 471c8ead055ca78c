// Fetching the store's remote index (docs/store/remote-index.md): one GET of an owner-named URL,
// size- and time-bounded, redirects only on the same origin. The driver answers the parsed JSON, or
// throws an Error whose message is a short reason safe to show (never the body, never a URL's query).

export interface StoreIndexFetcher {
  fetch(url: string): Promise<unknown>;
}
