/**
 * Label descriptions for bench:little-data's zero-shot runs: for TREC, one
 * line per class (its labels are codes, which is what descriptions are
 * for); for SST-2, one line per sentiment. Banking77's come from its names
 * (src/serving/zero-shot.ts nameAsText), as a client would derive them.
 * Written once from the data sets' documentation, never tuned on their test
 * splits.
 */
export const DESCRIPTIONS: Record<string, Record<string, string>> = {
  trec: {
    ABBR: 'an abbreviation, or what an abbreviation stands for',
    DESC: 'a description, a definition, a reason or the manner of something',
    ENTY: 'a thing: an animal, a color, a food, a product, an event, a word or another entity',
    HUM: 'a person or a group of people: who someone is, their name or title',
    LOC: 'a place: a city, a country, a mountain, a state or another location',
    NUM: 'a number: a count, a date, a distance, a price, a percentage, a period or a speed',
  },
  sst2: {
    negative: 'a negative movie review: the film is bad, dull or disappointing',
    positive: 'a positive movie review: the film is good, moving or entertaining',
  },
};
