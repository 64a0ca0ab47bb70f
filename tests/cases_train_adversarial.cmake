# Adversarial training from the train example (defenses/adversarial.hpp) on Patches:
# PGD-AT trains to full accuracy and raises APGD robust accuracy at its budget above the
# control's; an unknown method is refused by name. (Uses json_check and the Patches
# control of cases_examples.cmake, included before this file.)
if(NOT SLEEPNET_BUILD_EXAMPLES)
  return()
endif()
add_test(NAME example_train_patches_adversarial
  COMMAND $<TARGET_FILE:train> --dataset patches --epochs 100 --seed 3 --adversarial pgd --adv-eps 0.45
          --out ${_ex_out}/patches/adv --json ${_ex_out}/patches/adv_train.json)
set_tests_properties(example_train_patches_adversarial PROPERTIES FIXTURES_SETUP ex_patches_adv)
add_test(NAME example_attack_patches_adversarial
  COMMAND $<TARGET_FILE:attack> --model ${_ex_out}/patches/adv --dataset patches --seed 3 --attack pgd --eps 0.45
          --json ${_ex_out}/patches/adv_pgd.json)
add_test(NAME example_attack_patches_control_at_adv_eps
  COMMAND $<TARGET_FILE:attack> --model ${_ex_out}/patches/control --dataset patches --seed 3 --attack pgd --eps 0.45
          --json ${_ex_out}/patches/control_pgd045.json)
set_tests_properties(example_attack_patches_adversarial PROPERTIES FIXTURES_REQUIRED ex_patches_adv)
set_tests_properties(example_attack_patches_control_at_adv_eps PROPERTIES FIXTURES_REQUIRED ex_patches_model)
json_check(example_train_patches_adversarial_accuracy
  -DFILE=${_ex_out}/patches/adv_train.json -DKEY=test_accuracy -DOP=EQ -DVALUE=1)
json_check(example_attack_patches_adversarial_check
  -DFILE=${_ex_out}/patches/adv_pgd.json -DKEY=curve.0.robust_accuracy -DOP=GT
  -DFILE2=${_ex_out}/patches/control_pgd045.json -DKEY2=curve.0.robust_accuracy)
set_tests_properties(example_train_patches_adversarial_accuracy PROPERTIES DEPENDS example_train_patches_adversarial)
set_tests_properties(example_attack_patches_adversarial_check PROPERTIES
  DEPENDS "example_attack_patches_adversarial;example_attack_patches_control_at_adv_eps")
add_test(NAME example_train_bad_adversarial
  COMMAND $<TARGET_FILE:train> --dataset patches --adversarial bogus --out ${_ex_out}/patches/adv_bad)
set_tests_properties(example_train_bad_adversarial PROPERTIES
  PASS_REGULAR_EXPRESSION "unknown adversarial training method 'bogus' \\(pgd, fgsm-rs\\)")
