import { IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { defineMessage } from '../registry';

export class FeedErrorData {
  /** The feed (feed-poller `/v1/feeds/{id}`) that failed. */
  @IsString() feedId!: string;
  /** Why: HTTP status, malformed XML, a refused DOCTYPE, an entry over the size limit, a paging loop… */
  @IsString() @MaxLength(2000) reason!: string;
  /** Consecutive failed polls of this feed, this one included. */
  @IsOptional() @IsInt() @Min(1) failures?: number;
  /** When the feed is polled again (exponential backoff), RFC 3339. */
  @IsOptional() @IsString() retryAt?: string;
  /** The URL that failed (credentials are never part of it). */
  @IsOptional() @IsString() @MaxLength(2000) url?: string;
}
export const FeedError = defineMessage({
  type: 'nephele.feed.error',
  kind: 'event',
  data: FeedErrorData,
  description: 'Polling a provider Atom feed failed; the feed backs off and the other feeds go on.',
});
