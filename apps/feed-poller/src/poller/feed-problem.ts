/**
 * Something wrong with a feed itself (its HTTP answer, its XML, its paging): the feed backs off
 * and an error event says why. Anything else thrown while polling is ours (database, bus).
 */
export class FeedProblem extends Error {
  constructor(
    message: string,
    /** HTTP status when the feed answered with one. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FeedProblem';
  }
}
