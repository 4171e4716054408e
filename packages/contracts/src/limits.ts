/**
 * The contract's size limits, as plain numbers with no zod, so the SDK can ship them
 * (`@chat/contracts/limits`) without a dependency. The schemas enforce them.
 */

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
export const TITLE_MAX = 200;
export const MESSAGE_TEXT_MAX = 4000;
/** Members given in one create or update. */
export const MEMBERS_MAX = 1000;
export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 500;
/**
 * The largest seq a query parameter (`after`, `before`) may name: 15 digits, exact as a JS number.
 * `before` this reads a conversation's newest page.
 */
export const SEQ_PARAM_MAX = 999_999_999_999_999;
/** Cursors in one `resume` frame; a client with more sends several frames. */
export const RESUME_CURSORS_MAX = 1000;
/** How long a message's clientId is remembered (1.1 promises at least 24 hours). */
export const CLIENT_ID_TTL_MS = 25 * 60 * 60 * 1000;
/** Usernames one `GET /api/presence` may ask about. */
export const PRESENCE_QUERY_MAX = 100;
/** Per user and conversation, across every replica, one `typing` frame passes per this many ms. */
export const TYPING_THROTTLE_MS = 2000;
