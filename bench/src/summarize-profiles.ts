/**
 * Summarises V8 CPU profiles (from `node --cpu-prof`, or `npm run bench -- --profile`) as the
 * functions with the most self time: `node --import tsx bench/src/summarize-profiles.ts DIR|FILE…`
 */
import { stat } from 'node:fs/promises';
import { profileSummaryMarkdown, summarizeCpuProfile, summarizeProfileDir, type ProfileSummary } from './report/cpu-profile-summary.js';

const paths = process.argv.slice(2);
if (paths.length === 0) {
  process.stderr.write('usage: node --import tsx bench/src/summarize-profiles.ts DIR|FILE.cpuprofile …\n');
  process.exit(2);
}
const summaries: ProfileSummary[] = [];
for (const path of paths) {
  const info = await stat(path);
  if (info.isDirectory()) summaries.push(...(await summarizeProfileDir(path, new Map())));
  else summaries.push(await summarizeCpuProfile(path, new Map()));
}
process.stdout.write(profileSummaryMarkdown(summaries));
