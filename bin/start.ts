// `npm start`: the main job. The shipped model drives the held-out world of the simulator for
// three laps through the robot's own steering node on the embedded bus, headless, with
// progress, then prints the summary and writes the trajectory picture.
import { wantsHelp } from '../common/index.ts';
import { simCommand } from '../sim/loop/cli.ts';

export async function startCommand(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(
      'usage: fadnet start [sim options]: `fadnet sim` on the defaults above; see fadnet sim --help',
    );
    return 0;
  }
  console.log('fadnet-edge: the shipped FADNet model drives the held-out simulator world (3 laps)\n');
  return simCommand(args);
}
