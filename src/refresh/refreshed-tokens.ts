/**
 * The tokens a refresh returns, in a module of its own: the token refresher
 * and the response parser it uses both name them.
 *
 * @module
 */

/** The tokens a refresh returned; each is optional, as in Codex's `RefreshResponse`. */
export interface RefreshedTokens {
  /** A new raw id_token JWT. */
  id_token?: string;
  /** A new access token. */
  access_token?: string;
  /** The rotated refresh token. */
  refresh_token?: string;
}
