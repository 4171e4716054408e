--[[
  Accepts a message in one atomic step: checks membership, answers a repeated clientId, takes the
  next seq and rev, stores the message, moves the author's read cursor (read-cursor.ts), records it
  in its partition's outbox and wakes the partition (message-store.ts, includes/append-message.lua).

  Input:
    KEYS[1] conversation   hash, its 'seq' field is the last seq handed out, 'lastMessageAt', and
                           the author's last seq (ARGV[13])
    KEYS[2] members        sorted set of member usernames
    KEYS[3] messages       sorted set of message JSON scored by seq
    KEYS[4] outbox         the partition's sorted set of owed deliveries scored by acceptance time
    KEYS[5] wake           the partition's wake flag: set while a drain job is pending
    KEYS[6] clientId       the (author, clientId) key; ignored without a clientId
    KEYS[7] revs           sorted set of seqs scored by the rev of their latest change

    ARGV[1] author
    ARGV[2] messageHead    the message JSON up to its seq
    ARGV[3] messageTail    the message JSON after its rev (`"rev":N` follows the seq)
    ARGV[4] entryHead      the outbox entry up to its seq
    ARGV[5] entryTail      the outbox entry after its seq
    ARGV[6] acceptedAtMs   the outbox entry's score
    ARGV[7] keep           messages kept per conversation; 0 keeps everything
    ARGV[8] wakeTtlMs      how long the wake flag lives unless a drain clears it
    ARGV[9] createdAt      the message's createdAt: the conversation's lastMessageAt
    ARGV[10] clientId      '' when the message has none
    ARGV[11] fingerprint   of the text: a repeat with another text is a conflict
    ARGV[12] clientIdTtlMs how long the clientId is remembered
    ARGV[13] authoredField the conversation hash's field of the author's last seq (read-cursor.ts)

  Output:
    { 1, seq, woke, rev }   stored; woke is 1 when the caller must enqueue a drain job
    { 0, 0, 0 }             the author is not a member, or the conversation does not exist
    { 2, seq, 0, message }  a repeat: the message stored the first time, nothing new stored
    { 3, 0, 0 }             a repeat with another text, or of a deleted message: nothing stored
    { 4, seq, 0 }           a repeat whose message is no longer stored: nothing stored
]]
--- @include "includes/rev-index"
--- @include "includes/append-message"
return appendMessage(KEYS, ARGV)
