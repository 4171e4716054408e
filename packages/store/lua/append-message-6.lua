--[[
  Accepts a message in one atomic step: checks membership, takes the next seq, stores the message,
  records it in its partition's outbox and wakes the partition (message-store.ts).

  Input:
    KEYS[1] conversation   hash, its 'seq' field is the last seq handed out
    KEYS[2] members        sorted set of member usernames
    KEYS[3] messages       sorted set of message JSON scored by seq
    KEYS[4] outbox         the partition's sorted set of owed deliveries scored by acceptance time
    KEYS[5] wake           the partition's wake flag: set while a drain job is pending
    KEYS[6] revs           sorted set of seqs scored by the rev of their latest change

    ARGV[1] author
    ARGV[2] messageHead    the message JSON up to its seq
    ARGV[3] messageTail    the message JSON after its rev (`"rev":N` follows the seq)
    ARGV[4] entryHead      the outbox entry up to its seq
    ARGV[5] entryTail      the outbox entry after its seq
    ARGV[6] acceptedAtMs   the outbox entry's score
    ARGV[7] keep           messages kept per conversation; 0 keeps everything
    ARGV[8] wakeTtlMs      how long the wake flag lives unless a drain clears it

  Output:
    { 1, seq, woke, rev }   stored; woke is 1 when the caller must enqueue a drain job
    { 0, 0, 0 }        the author is not a member, or the conversation does not exist
]]
--- @include "includes/rev-index"
--- @include "includes/append-message"
return appendMessage(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], KEYS[6])
