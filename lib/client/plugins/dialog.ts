// dialog: MariaDB's question-and-answer client plugin (libmariadb plugins/auth/dialog.c), which
// auth_pam speaks. Each server packet is a question: a type byte, then the prompt text. Type 2
// asks with echo (ordinary), 4 without (password); bit 0 marks the last question. The first
// password question is answered with the connection's password, any other by options.dialogAsk.
// An empty question (MariaDB switches to dialog with no data) asks for the password up front;
// when that one does not do, the server asks again with a real prompt.
import { declareClientPlugin } from '../plugin';
import { CR_ERROR, CR_OK, CR_OK_HANDSHAKE_COMPLETE } from '../../auth/vio';

const LAST_QUESTION = 0x01;
const ORDINARY_QUESTION = 0x02;
const PASSWORD_QUESTION = 0x04;
const OK_PACKET = 0x00;
// A server that keeps asking is refused rather than followed forever.
const MAX_QUESTIONS = 64;

export const dialog = declareClientPlugin({
  name: 'dialog',
  author: 'auth-socket',
  description: "MariaDB's dialog: answers the server's questions (PAM conversations)",
  version: [1, 0, 0],
  license: 'MIT',
  // Answers (the password first of all) go out as typed: PAM sees them in clear.
  sendsCleartextPassword: true,
  async authenticate(vio, mysql) {
    let passwordOffered = false;
    for (let asked = 0; asked < MAX_QUESTIONS; asked++) {
      const question = await vio.readPacket();
      let answer: string;
      let last = false;
      if (question.length === 0) {
        answer = mysql.password;
        passwordOffered = true;
      } else {
        const type = question[0];
        // The server's final OK arrived where a question was expected: the exchange is over.
        if (type === OK_PACKET) return CR_OK_HANDSHAKE_COMPLETE;
        const kind = type & ~LAST_QUESTION;
        if (kind !== ORDINARY_QUESTION && kind !== PASSWORD_QUESTION) {
          mysql.setError(`dialog: unknown question type ${type}`);
          return CR_ERROR;
        }
        last = (type & LAST_QUESTION) !== 0;
        const prompt = question.subarray(1).toString('utf8');
        if (kind === PASSWORD_QUESTION && !passwordOffered && mysql.password !== '') {
          answer = mysql.password;
          passwordOffered = true;
        } else if (mysql.options.dialogAsk !== undefined) {
          answer = await mysql.options.dialogAsk(prompt, kind === ORDINARY_QUESTION);
        } else {
          mysql.setError(`dialog: the server asked ${JSON.stringify(prompt)} and no dialogAsk option answers it`);
          return CR_ERROR;
        }
      }
      if (typeof answer !== 'string' || answer.includes('\0')) {
        mysql.setError('dialog: an answer must be a string without NUL bytes');
        return CR_ERROR;
      }
      await vio.writePacket(Buffer.concat([Buffer.from(answer, 'utf8'), Buffer.from([0])]));
      // MySQL's servers mark the last question; MariaDB's PAM cannot know it and ends with OK.
      if (last) return CR_OK;
    }
    mysql.setError(`dialog: the server asked more than ${MAX_QUESTIONS} questions`);
    return CR_ERROR;
  },
});
